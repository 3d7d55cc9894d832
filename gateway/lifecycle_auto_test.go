package gateway

import (
	"context"
	"errors"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/hookgate/hookgate/config"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/store"
)

// mailbox is a real SMTP server on loopback (go-smtp) that keeps what it
// receives and requires PLAIN authentication.
type mailbox struct {
	srv  *smtp.Server
	addr *net.TCPAddr
	mu   sync.Mutex
	got  []receivedMail
	ch   chan receivedMail
}

type receivedMail struct {
	From, User string
	To         []string
	Data       []byte
}

func newMailbox(t *testing.T) *mailbox {
	mb := &mailbox{ch: make(chan receivedMail, 10)}
	mb.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{mb: mb}, nil }))
	mb.srv.Domain = "localhost"
	mb.srv.AllowInsecureAuth = true // loopback test server without TLS
	mb.srv.ReadTimeout, mb.srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = ln.Addr().(*net.TCPAddr)
	go mb.srv.Serve(ln)
	t.Cleanup(func() { mb.srv.Close() })
	return mb
}

type mailSession struct {
	mb  *mailbox
	cur receivedMail
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "hookgate" || pass != "mail-pass" {
			return errors.New("bad credentials")
		}
		s.cur.User = user
		return nil
	}), nil
}
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.cur.User == "" {
		return smtp.ErrAuthRequired
	}
	s.cur.From = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.mb.mu.Lock()
	s.mb.got = append(s.mb.got, s.cur)
	s.mb.mu.Unlock()
	s.mb.ch <- s.cur
	return nil
}
func (s *mailSession) Reset()        { s.cur = receivedMail{User: s.cur.User} }
func (s *mailSession) Logout() error { return nil }

// TestAutoDeactivation: seven days of failures in a row make a webhook
// inactive (history by the system, pending deliveries dead-lettered, email
// through a real SMTP server); a webhook that recovered is left alone.
func TestAutoDeactivation(t *testing.T) {
	mb := newMailbox(t)
	var failing sync.Map // path → true while failing
	rc := gatewaytest.NewReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		if _, bad := failing.Load(r.URL.Path); bad {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(200)
	})
	cfg := gatewaytest.APIConfig(t)
	cfg.SMTP = config.SMTP{Host: "127.0.0.1", Port: mb.addr.Port, From: "Hookgate <hookgate@example.com>",
		Username: "hookgate", Password: "mail-pass", TLS: config.SMTPNoTLS, Timeout: 5 * time.Second}
	cfg.Lifecycle.CheckInterval = 5 * time.Millisecond
	// One retry, due long after the seven days, so a delivery is pending
	// when the webhook is deactivated.
	cfg.Delivery.Backoff = []time.Duration{10 * 24 * time.Hour}
	tg := startAPIGateway(t, cfg)
	tok := tg.Token("acme", "acme-secret")
	broken := gatewaytest.NewHook(rc.Srv.URL+"/broken", "workorder.created")
	broken["notificationEmail"] = "alerts@example.com"
	brokenID := tg.Create(tok, broken)["webhookId"].(string)
	recovered := tg.Create(tok, gatewaytest.NewHook(rc.Srv.URL+"/recovered", "workorder.created"))["webhookId"].(string)
	failing.Store("/broken", true)
	failing.Store("/recovered", true)

	tg.Publish(tok, gatewaytest.Seed(t, "workorder.created"))
	rc.Next(t)
	rc.Next(t)
	tg.WaitFor(brokenID, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == 1 })
	tg.WaitFor(recovered, store.DeliveryPending, func(d *store.Delivery) bool { return d.Attempts == 1 })
	// A day later the second endpoint answers again: its run of failures ends.
	tg.Clock.Advance(24 * time.Hour)
	failing.Delete("/recovered")
	tok = tg.Token("acme", "acme-secret") // tokens last an hour
	tg.Must(200, "POST", "/api/v1/webhooks/"+recovered+"/test", tok, nil)
	rc.Next(t)
	tg.WaitFor(recovered, store.DeliverySucceeded, func(*store.Delivery) bool { return true })

	// One minute short of seven days after the first failure: nothing yet.
	tg.Clock.Advance(6*24*time.Hour - time.Minute)
	if ids, err := tg.G.CheckLifecycle(context.Background()); err != nil || len(ids) != 0 {
		t.Fatalf("before 7 days: deactivated %v, %v", ids, err)
	}
	tg.Clock.Advance(time.Minute)
	tok = tg.Token("acme", "acme-secret")
	deadline := time.Now().Add(10 * time.Second) // the loop runs on its own goroutine
	for tg.Must(200, "GET", "/api/v1/webhooks/"+brokenID, tok, nil).Result()["status"] != "inactive" {
		if time.Now().After(deadline) {
			t.Fatal("not auto-deactivated after 7 days of failures")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s := tg.Must(200, "GET", "/api/v1/webhooks/"+recovered, tok, nil).Result()["status"]; s != "active" {
		t.Errorf("the recovered webhook is %v", s)
	}
	hist := tg.History(tok, brokenID)
	last := hist[len(hist)-1]
	st := last["changes"].(map[string]any)["status"].(map[string]any)
	if last["action"] != "status_changed" || last["userId"] != 0.0 || st["from"] != "active" || st["to"] != "inactive" ||
		!strings.Contains(last["reason"].(string), "auto-deactivated") {
		t.Errorf("history %v", last)
	}
	d := tg.WaitDelivery(brokenID, store.DeliveryDead)
	if !strings.Contains(d.DeadReason, "auto-deactivated") {
		t.Errorf("pending delivery dead-lettered with %q", d.DeadReason)
	}

	select {
	case m := <-mb.ch:
		if m.From != "hookgate@example.com" || len(m.To) != 1 || m.To[0] != "alerts@example.com" || m.User != "hookgate" {
			t.Errorf("envelope from %q to %v user %q", m.From, m.To, m.User)
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		if !strings.Contains(msg.Header.Get("Subject"), brokenID) || msg.Header.Get("To") != "alerts@example.com" ||
			!strings.Contains(string(body), "has been set to inactive") || !strings.Contains(string(body), "/recover") {
			t.Errorf("email %v\n%s", msg.Header, body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no email within 10s")
	}
	// Once inactive it is not checked again: no second email.
	if ids, _ := tg.G.CheckLifecycle(context.Background()); len(ids) != 0 {
		t.Errorf("deactivated again: %v", ids)
	}
	// Reactivating works as the spec says.
	tg.Must(200, "PUT", "/api/v1/webhooks/"+brokenID, tok, map[string]any{"status": "active"})
}
