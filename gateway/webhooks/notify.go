package webhooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/uuid"

	"github.com/hookgate/hookgate/config"
)

// Message is one notification email.
type Message struct {
	To      string
	Subject string
	Body    string // plain text
}

// Mailer sends notification emails.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// Clock is the source of time of a message's Date header.
type Clock interface {
	Now() time.Time
}

// ErrNoMailer: the config has no smtp host; the caller logs the notice.
var ErrNoMailer = errors.New("no smtp.host configured: email not sent")

type noMailer struct{}

func (noMailer) Send(context.Context, Message) error { return ErrNoMailer }

// smtpMailer sends through the smtp block's server with go-smtp.
type smtpMailer struct {
	cfg   config.SMTP
	clock Clock
}

// NewMailer returns the mailer of the smtp block: one that sends nothing
// (ErrNoMailer) when it names no host.
func NewMailer(cfg config.SMTP, clock Clock) Mailer {
	if cfg.Host == "" {
		return noMailer{}
	}
	return &smtpMailer{cfg: cfg, clock: clock}
}

// Send dials, secures the connection as smtp.tls says, authenticates when a
// username is set and delivers one message, all within smtp.timeout.
func (s *smtpMailer) Send(ctx context.Context, m Message) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// Closing the connection when ctx ends unblocks any read or write.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	tlsCfg := &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
	var c *smtp.Client
	switch s.cfg.TLS {
	case config.SMTPTLS:
		c = smtp.NewClient(tls.Client(conn, tlsCfg))
	case config.SMTPNoTLS:
		c = smtp.NewClient(conn)
	default:
		if c, err = smtp.NewClientStartTLS(conn, tlsCfg); err != nil {
			conn.Close()
			return fmt.Errorf("smtp %s: STARTTLS: %w", addr, err)
		}
	}
	defer c.Close()
	if s.cfg.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password)); err != nil {
			return fmt.Errorf("smtp %s: authentication as %s: %w", addr, s.cfg.Username, err)
		}
	}
	from, err := mail.ParseAddress(s.cfg.From)
	if err != nil {
		return fmt.Errorf("smtp.from: %w", err)
	}
	body, err := s.compose(from, m)
	if err != nil {
		return err
	}
	if err := c.SendMail(from.Address, []string{m.To}, bytes.NewReader(body)); err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	return c.Quit()
}

// compose writes an RFC 5322 message: UTF-8 text, quoted-printable, CRLF.
func (s *smtpMailer) compose(from *mail.Address, m Message) ([]byte, error) {
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", from.String())
	hdr("To", m.To)
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	hdr("Date", s.clock.Now().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+uuid.NewString()+"@hookgate>")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
