package invitemail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"time"

	"github.com/memberkit/memberkit/membership"
)

// TLSMode is how an [SMTP] transport protects the connection.
type TLSMode int

// TLS modes.
const (
	// StartTLS requires the server to offer STARTTLS and uses it before
	// anything else (port 587). The default.
	StartTLS TLSMode = iota
	// ImplicitTLS speaks TLS from the first byte (port 465).
	ImplicitTLS
	// NoTLS sends in clear. Only for a relay on the same machine; Go's
	// SMTP client refuses to send a password in clear to any other host.
	NoTLS
)

// SMTP sends through an SMTP server (net/smtp, with a context). It is
// safe for concurrent use: each message has its own connection.
type SMTP struct {
	// Addr is the server, host:port.
	Addr string
	// TLS is the protection of the connection; default StartTLS.
	TLS TLSMode
	// TLSConfig verifies the server; default the system's roots, with
	// ServerName Addr's host.
	TLSConfig *tls.Config
	// Username and Password, when Username is set, authenticate with
	// PLAIN, over TLS only (but to localhost).
	Username string
	Password membership.Secret
	// LocalName is the name given in EHLO; default "localhost".
	LocalName string
	// Timeout bounds a message's whole exchange when the context has no
	// earlier deadline; default 30 s.
	Timeout time.Duration
}

// PermanentError is a server's 5xx answer to a recipient: sending the
// same message again would fail the same way (an unknown address). Other
// refusals (authentication, sender, TLS) are the configuration's: they
// are returned as they are, and the relay tries again after a backoff.
type PermanentError struct{ Err *textproto.Error }

func (e *PermanentError) Error() string {
	return fmt.Sprintf("invitemail: refused for good: %v", e.Err)
}

// Unwrap returns the server's answer.
func (e *PermanentError) Unwrap() error { return e.Err }

// Send sends msg from from to to.
func (s *SMTP) Send(ctx context.Context, from string, to []string, msg []byte) error {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("invitemail: SMTP Addr %q: %w", s.Addr, err)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("invitemail: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) }) // a canceled context ends the exchange
	defer stop()
	if s.TLS == ImplicitTLS {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("invitemail: TLS: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return s.fail(ctx, err)
	}
	defer c.Close()
	name := s.LocalName
	if name == "" {
		name = "localhost"
	}
	if err := c.Hello(name); err != nil {
		return s.fail(ctx, err)
	}
	if s.TLS == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("invitemail: the SMTP server offers no STARTTLS (set TLS to ImplicitTLS or, on loopback only, NoTLS)")
		}
		if err := c.StartTLS(cfg); err != nil {
			return s.fail(ctx, err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, string(s.Password), host)); err != nil {
			return s.fail(ctx, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return s.fail(ctx, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			var te *textproto.Error
			if errors.As(err, &te) && te.Code >= 500 {
				// This recipient is refused for good; anything else
				// (greeting, TLS, authentication, sender) is the
				// configuration's and is retried.
				return &PermanentError{Err: te}
			}
			return s.fail(ctx, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return s.fail(ctx, err)
	}
	if _, err := w.Write(msg); err != nil {
		return s.fail(ctx, err)
	}
	if err := w.Close(); err != nil {
		return s.fail(ctx, err)
	}
	_ = c.Quit() // the server has taken the message: a failed goodbye does not undo it
	return nil
}

// fail reads an SMTP error; a timeout names the context's error.
func (s *SMTP) fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("invitemail: SMTP: %w (%v)", ctx.Err(), err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		// The only deadline on the connection is the context's: it
		// passed, though its timer may not have fired yet.
		return fmt.Errorf("invitemail: SMTP: %w (%v)", context.DeadlineExceeded, err)
	}
	return fmt.Errorf("invitemail: SMTP: %w", err)
}
