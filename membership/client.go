package membership

import "context"

type clientKey struct{}

// WithClient returns a context that names the client a request comes
// from (typically its IP address) for throttling: failed logins, password
// changes and invitation lookups are counted per client as well as per
// login, so one client cannot guess its way through many logins. The key
// is only ever stored hashed.
func WithClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

// ClientFrom returns the client named by [WithClient], or "".
func ClientFrom(ctx context.Context) string {
	s, _ := ctx.Value(clientKey{}).(string)
	return s
}
