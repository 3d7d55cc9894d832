package gateway

import (
	"os"
	"testing"

	httpsink "github.com/hookgate/hookgate/plugins/http"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
	"github.com/hookgate/hookgate/plugins/servicenow"
)

// The test binary doubles as the http and servicenow sink subprocesses, so
// the gateway's tests go through the real plugin boundary.
func TestMain(m *testing.M) {
	sdktest.ServeIfChild(map[string]sdk.Sink{"http": httpsink.New(), "servicenow": servicenow.New()})
	os.Exit(m.Run())
}

var sinkCommand = sdktest.Command
