package webhooks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hookgate/hookgate/config"
)

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func TestMailerNoHost(t *testing.T) {
	if err := NewMailer(config.SMTP{}, wallClock{}).Send(context.Background(), Message{To: "a@b.c"}); !errors.Is(err, ErrNoMailer) {
		t.Errorf("no host: %v", err)
	}
}
