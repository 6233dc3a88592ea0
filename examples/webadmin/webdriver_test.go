package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A minimal W3C WebDriver client for chromedriver (Debian's
// chromium-driver): plain HTTP and JSON, so the browser test adds no Go
// dependency to the module.

type browser struct {
	t       *testing.T
	base    string
	session string
	http    *http.Client
}

const elementKey = "element-6066-11e4-a52e-4f735466cecf"

func chromiumPath() string {
	for _, p := range []string{os.Getenv("MEMBERKIT_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return ""
}

// startBrowser starts chromedriver and a headless Chromium, or skips the
// test with a message saying what to install.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	driver, err := exec.LookPath("chromedriver")
	bin := chromiumPath()
	if err != nil || bin == "" {
		t.Skip("browser test skipped: Chromium and chromedriver are not installed (apt-get install chromium chromium-driver; .ci/run installs them)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var logs bytes.Buffer
	cmd := exec.Command(driver, "--port="+strconv.Itoa(port), "--allowed-ips=127.0.0.1")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("chromedriver: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	b := &browser{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), http: &http.Client{Timeout: 60 * time.Second}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := b.http.Get(b.base + "/status")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	profile := t.TempDir()
	var out struct {
		SessionID string `json:"sessionId"`
	}
	b.call("POST", "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{"binary": bin, "args": []string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1400,1000", "--user-data-dir=" + profile}},
	}}}, &out)
	b.session = out.SessionID
	t.Cleanup(func() { b.call("DELETE", "", nil, nil) })
	return b
}

func (b *browser) call(method, path string, body, out any) {
	b.t.Helper()
	if err := b.try(method, path, body, out); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) try(method, path string, body, out any) error {
	url := b.base + path
	if b.session != "" {
		url = b.base + "/session/" + b.session + path
	}
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("webdriver %s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		var env struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			return err
		}
		return json.Unmarshal(env.Value, out)
	}
	return nil
}

func (b *browser) open(url string) { b.call("POST", "/url", map[string]string{"url": url}, nil) }

// find waits up to 5 s for an element.
func (b *browser) find(css string) string {
	b.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var el map[string]string
		err := b.try("POST", "/element", map[string]string{"using": "css selector", "value": css}, &el)
		if err == nil {
			return el[elementKey]
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("element %q not found: %v\npage:\n%s", css, err, b.source())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *browser) count(css string) int {
	var els []map[string]string
	b.call("POST", "/elements", map[string]string{"using": "css selector", "value": css}, &els)
	return len(els)
}

func (b *browser) click(css string) {
	b.call("POST", "/element/"+b.find(css)+"/click", map[string]any{}, nil)
}

func (b *browser) typeInto(css, text string) {
	el := b.find(css)
	b.call("POST", "/element/"+el+"/clear", map[string]any{}, nil)
	b.call("POST", "/element/"+el+"/value", map[string]string{"text": text}, nil)
}

func (b *browser) text(css string) string {
	var s string
	b.call("GET", "/element/"+b.find(css)+"/text", nil, &s)
	return s
}

func (b *browser) attr(css, name string) string {
	var s string
	b.call("GET", "/element/"+b.find(css)+"/attribute/"+name, nil, &s)
	return s
}

func (b *browser) source() string {
	var s string
	_ = b.try("GET", "/source", nil, &s)
	return s
}

func (b *browser) screenshot(path string) {
	var s string
	b.call("GET", "/screenshot", nil, &s)
	png, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// waitText waits until the element's text contains want. The page may
// be replaced while it waits (a form just submitted): an element gone
// stale is looked up again.
func (b *browser) waitText(css, want string) {
	b.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var el map[string]string
		var s string
		if b.try("POST", "/element", map[string]string{"using": "css selector", "value": css}, &el) == nil &&
			b.try("GET", "/element/"+el[elementKey]+"/text", nil, &s) == nil && strings.Contains(s, want) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: want text %q, have %q", css, want, b.text(css))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
