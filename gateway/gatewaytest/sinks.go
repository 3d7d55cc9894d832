package gatewaytest

import (
	"os"
	"testing"

	httpsink "github.com/hookgate/hookgate/plugins/http"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
	"github.com/hookgate/hookgate/plugins/servicenow"
)

// Main is a test package's TestMain: the test binary doubles as the http
// and servicenow sink subprocesses, so the tests go through the real
// plugin boundary.
func Main(m *testing.M) {
	sdktest.ServeIfChild(map[string]sdk.Sink{"http": httpsink.New(), "servicenow": servicenow.New()})
	os.Exit(m.Run())
}

// SinkCommand runs a built-in sink from the test binary
// (gateway.Options.BuiltinCommand).
var SinkCommand = sdktest.Command
