package dashboard_test

import (
	"os"
	"testing"

	httpsink "github.com/hookgate/hookgate/plugins/http"
	"github.com/hookgate/hookgate/plugins/sdk"
	"github.com/hookgate/hookgate/plugins/sdk/sdktest"
)

// The test binary doubles as the http sink subprocess, so the browser test
// runs a real gateway through the real plugin boundary.
func TestMain(m *testing.M) {
	sdktest.ServeIfChild(map[string]sdk.Sink{"http": httpsink.New()})
	os.Exit(m.Run())
}
