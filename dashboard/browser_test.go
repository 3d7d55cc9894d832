package dashboard_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium (the Makefile installs it).
func chromiumPath() string {
	for _, p := range []string{os.Getenv("HOOKGATE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// browser starts a headless chromium with a fresh profile and nothing that
// reaches the internet on its own.
func browser(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: run `make unit`, which installs it")
		}
		t.Skip("chromium is not installed (apt-get install chromium, or make unit)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900), // a laptop screen
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelCtx := chromedp.NewContext(actx)
	// The first action starts the browser; it must not carry the timeout,
	// which would stop the browser itself (chromedp.Run's rule).
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	return ctx, func() { cancelTimeout(); cancelCtx(); cancelAlloc() }
}

// shooter saves full-page screenshots under testdata/screenshots when
// HOOKGATE_SCREENSHOTS=1 (make screenshots).
type shooter struct {
	t   *testing.T
	dir string
	on  bool
}

func newShooter(t *testing.T) *shooter {
	return &shooter{t: t, dir: filepath.Join("..", "testdata", "screenshots"), on: os.Getenv("HOOKGATE_SCREENSHOTS") == "1"}
}

// step is an action without a value.
type step = chromedp.Action[chromedp.Void]

func (s *shooter) shot(name string) step {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if !s.on {
			return nil
		}
		// The viewport, not the full page: what a user sees on a laptop.
		png, err := chromedp.CaptureScreenshot()(ctx, tg)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(s.dir, name+".png"), png, 0o644)
	})
}

// run runs actions and fails the test with the step's name.
func run(t *testing.T, ctx context.Context, name string, steps ...step) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		loc, _ := chromedp.Run(sctx, chromedp.Location())
		body, _ := chromedp.Run(sctx, chromedp.TextContent(chromedp.CSS("main")))
		cancel()
		if len(body) > 1500 {
			body = body[:1500]
		}
		t.Fatalf("%s: %v\nat %s\n%s", name, err, loc, body)
	}
}

// setValue sets a field and fires input, as typing would.
func setValue(sel, value string) step {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(function(){var e=document.querySelector(%q);e.value=%q;e.dispatchEvent(new Event("input",{bubbles:true}));return true})()`, sel, value))
}

// waitJS polls until a script expression is true.
func waitJS(expr string) step {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		deadline := time.Now().Add(10 * time.Second)
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, tg)
			if err == nil && ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s never became true (last error: %v)", expr, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// waitText polls until the element's text contains want. It retries
// through navigations (a form post replaces the page under the check).
func waitText(sel, want string) step {
	return waitJS(fmt.Sprintf(`(function(){var e=document.querySelector(%q);return !!e && e.textContent.indexOf(%q)>=0})()`, sel, want))
}

// reloadUntil reloads url until the element's text contains want (a
// delivery happens in the background).
func reloadUntil(t *testing.T, ctx context.Context, url, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		run(t, ctx, "load "+url, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS(sel)))
		text, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q never showed %q; last:\n%s", url, sel, want, text)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// TestBrowserWalkthrough drives the dashboard in chromium against a real
// gateway: sign in, create a webhook in the dialog, edit its template with
// the live preview, publish an event through the API, find the failed
// delivery in the logs and retry it, archive the webhook and see editing
// refused, read its history, sign out.
func TestBrowserWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	lg := startGateway(t)
	hookURL, hits := flakyReceiver(t)
	ctx, cancel := browser(t)
	defer cancel()
	s := newShooter(t)
	ui := lg.base + "/ui"

	// Sign in: an unauthenticated visit lands on the sign-in page.
	run(t, ctx, "sign-in page",
		chromedp.Navigate(ui+"/webhooks"), chromedp.WaitVisible(chromedp.ID("#client_id")), s.shot("sign-in"))
	run(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.ID("#client_id"), "acme"), chromedp.SendKeys(chromedp.ID("#client_secret"), "acme-secret"),
		chromedp.Submit(chromedp.ID("#client_secret")), waitText("h1", "Webhooks"))

	// Create a webhook through the dialog, both tabs.
	run(t, ctx, "create dialog",
		chromedp.Click(chromedp.ID("#create-new")), chromedp.WaitVisible(chromedp.ID("#create-dialog")),
		chromedp.SendKeys(chromedp.ID("#url"), hookURL+"/hooks/fn"),
		chromedp.Click(chromedp.CSS(`input[name=events][value="workorder.status.published"]`)),
		chromedp.Click(chromedp.CSS(`input[name=events][value="workorder.created"]`)),
		chromedp.SendKeys(chromedp.ID("#email"), "ops@example.com"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#create-dialog .modalbody").scrollTop = 0`),
		s.shot("create-webhook"),
		chromedp.Click(chromedp.ID("#tab-advanced")), chromedp.WaitVisible(chromedp.ID("#panel-advanced")),
		chromedp.SendKeys(chromedp.CSS("[data-new-header-name]"), "X-Team"),
		chromedp.SendKeys(chromedp.CSS("[data-new-header-value]"), "integrations"),
		chromedp.Click(chromedp.CSS("[data-add-header]")),
		// The x-fn- rule is enforced before the API sees it.
		chromedp.SendKeys(chromedp.CSS("[data-new-header-name]"), "X-FN-Custom"),
		chromedp.Click(chromedp.CSS("[data-add-header]")),
		waitText("[data-header-error]", "reserved"),
		setValue("[data-new-header-name]", ""),
		s.shot("create-webhook-advanced"),
		chromedp.Click(chromedp.ID("#create-submit")),
		chromedp.WaitVisible(chromedp.ID("#shown-secret")), s.shot("webhook-created"))
	webhookID, err1 := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("webhook-link")))
	secret, err2 := chromedp.Run(ctx, chromedp.Value(chromedp.ID("shown-secret")))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if len(webhookID) != 36 || len(secret) != 36 {
		t.Fatalf("created webhook %q with secret %q", webhookID, secret)
	}
	// A reload does not post the form again: it shows the webhook, without the secret.
	run(t, ctx, "reload after create", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("cfg-title")))
	if html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, secret) {
		t.Error("the secret is still on the page after a reload")
	}

	// It is in the list.
	run(t, ctx, "list", chromedp.Navigate(ui+"/webhooks"), waitText("table.grid", webhookID), s.shot("webhooks"))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.grid tbody tr").length`)); err != nil || n != 2 {
		t.Errorf("the list has %d rows (%v), want the new webhook and the HCL one", n, err)
	}
	// Filter and search go through to the API.
	run(t, ctx, "filter", chromedp.Navigate(ui+"/webhooks?status=inactive"), waitText("table.grid tbody", "erp.example.com"))
	// The HCL webhook has no notification email: the API answers "" and
	// the details show a dash.
	run(t, ctx, "no email", chromedp.Click(chromedp.CSS(`table.grid tbody a.mono`)), waitText("main", "Notification email—"))
	run(t, ctx, "search", chromedp.Navigate(ui+"/webhooks?search=ops@example"), waitText("table.grid tbody", webhookID))
	if body, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("table.grid tbody"))); strings.Contains(body, "erp.example.com") {
		t.Error("search by email shows the HCL webhook")
	}

	// Details show the header and the events.
	run(t, ctx, "details", chromedp.Navigate(ui+"/webhooks/"+webhookID), waitText("main", "X-Team: integrations"),
		waitText("main", "workorder.created"),
		waitJS(`document.querySelectorAll("#charts figure.chart svg[role=img]").length === 3`), s.shot("webhook-details"))

	// Templates: the preview follows the editor, and shows errors with their position.
	run(t, ctx, "templates",
		chromedp.Navigate(ui+"/webhooks/"+webhookID+"/templates"),
		waitText("#preview-body", `"workorder"`), // no template: the seed envelope as is
		setValue("#payloadTemplate", `{"wo": workorder.id, "title": $uppercase(workorder.title), "event": event.name}`),
		waitText("#preview-body", `"ROUTER INSTALLATION`),
		setValue("#urlTemplate", hookURL+"/hooks/fn/{{ workorder.id }}"),
		waitText("#preview-url", "/hooks/fn/12345"),
		setValue("#payloadTemplate", `{"wo": workorder.id,, }`),
		waitText("#preview-error", "column"), s.shot("templates-error"),
		setValue("#payloadTemplate", `{"wo": workorder.id, "title": $uppercase(workorder.title), "event": event.name}`),
		waitJS(`document.querySelector("[data-preview]").dataset.state === "ok"`),
		waitText("#preview-body", `"ROUTER INSTALLATION`),
		s.shot("templates"),
		chromedp.Click(chromedp.ID("#save-templates")), waitText(".flash", "Templates saved"))

	// Publish through the API; the receiver fails the first attempt.
	lg.publish(t, lg.token(t), "workorder.status.published")
	reloadUntil(t, ctx, ui+"/logs?webhookId="+webhookID, "[data-logs] tbody", "500")
	run(t, ctx, "logs", waitText("[data-logs] tbody", ":1"))

	// Details of the failed attempt, then Retry through the confirmation.
	run(t, ctx, "log details",
		chromedp.Click(chromedp.CSS(`[data-logs] tbody a[href*="/ui/logs/"]`)),
		waitText("#log-status", "500"), waitText("main", "database is restarting"),
		waitText("main", "ROUTER INSTALLATION"), // the request body after the template
		s.shot("delivery-log-details"),
		chromedp.Click(chromedp.ID("#retry")), chromedp.WaitVisible(chromedp.ID("#retry-dialog")),
		s.shot("delivery-log-retry"),
		chromedp.Click(chromedp.ID("#retry-confirm")), waitText(".flash", "Retry queued as"))
	reloadUntil(t, ctx, ui+"/logs?webhookId="+webhookID, "[data-logs] tbody", ":2")
	run(t, ctx, "retried", waitText("[data-logs] tbody", "200"))
	if hits.Load() != 2 {
		t.Errorf("the receiver got %d requests, want 2", hits.Load())
	}

	// CSV export of the filtered list.
	csv, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.getElementById("export-csv").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(csv, "deliveryId,") || strings.Count(csv, webhookID) != 2 {
		t.Errorf("CSV export:\n%s", csv)
	}

	run(t, ctx, "health", chromedp.Navigate(ui+"/health"), waitText("main", "50.0%"), s.shot("health"))
	// The charts: three SVG images with titles, drawn on the server, and
	// the range links (docs/charts.md).
	run(t, ctx, "charts",
		waitJS(`document.querySelectorAll("#charts figure.chart svg[role=img] > title").length === 3`),
		chromedp.Click(chromedp.CSS(`#charts .ranges a[href^="?range=1h"]`)),
		waitJS(`document.querySelector("#charts .ranges a.current").textContent === "1h"`),
		waitText("#charts", "Deliveries per minute"))
	// The two attempts above (500, then 200) are bars of the last hour.
	reloadUntil(t, ctx, ui+"/health?range=1h", "#chart-deliveries-desc", "2 in all")
	run(t, ctx, "chart bars", waitJS(`document.querySelectorAll("#charts svg g.bar rect.success").length >= 1 &&
		document.querySelectorAll("#charts svg g.bar rect.retry").length >= 1`), s.shot("health-charts"))

	// Another event, delivered at once: the list shows all three attempts.
	lg.publish(t, lg.token(t), "workorder.created")
	reloadUntil(t, ctx, ui+"/logs", "[data-logs] tbody", "workorder.created")
	run(t, ctx, "all logs", waitText("[data-logs] tbody", "200"), s.shot("delivery-logs"))

	// Archive (with its confirmation); editing is then refused.
	run(t, ctx, "archive",
		chromedp.Navigate(ui+"/webhooks/"+webhookID),
		chromedp.Click(chromedp.ID("send-test")), waitText(".flash", "queued as"),
		chromedp.Click(chromedp.ID("#archive")), chromedp.WaitVisible(chromedp.ID("#archive-dialog")),
		s.shot("archive-confirm"),
		chromedp.Click(chromedp.ID("#archive-confirm")), waitText(".flash", "archived"),
		chromedp.Navigate(ui+"/webhooks/"+webhookID+"/edit"),
		waitText("#readonly-note", "cannot be edited"), s.shot("edit-refused"))
	disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("form fieldset.plain").disabled`))
	if err != nil {
		t.Fatal(err)
	}
	if !disabled {
		t.Error("the edit form of an archived webhook is enabled")
	}
	// Even a form forced open is refused by the API, and the refusal is shown.
	run(t, ctx, "edit refused by the API",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("form fieldset.plain").disabled = false`),
		chromedp.Click(chromedp.ID("save")), waitText("#form-error", "archived"))

	// A webhook from gateway.hcl is read-only and names its file and block.
	run(t, ctx, "config webhook",
		chromedp.Navigate(ui+"/webhooks"), waitText("table.grid", "erp.example.com"),
		chromedp.Click(chromedp.CSS(`tr:has(td[title*="erp.example.com"]) a`)),
		waitText("#config-note", `gateway.hcl:42 webhook "erp"`), s.shot("webhook-config-readonly"))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#edit-link, #archive, #pause, #activate").length`)); err != nil || n != 0 {
		t.Errorf("a config webhook offers %d changes (%v)", n, err)
	}

	// History: who, when, previous and new values side by side.
	run(t, ctx, "history",
		chromedp.Navigate(ui+"/webhooks/"+webhookID+"/history"),
		waitText(".history", "webhook_created"), waitText(".history", "template_changed"), waitText(".history", "status_changed"),
		waitText(".history", "user 1068"),
		chromedp.Click(chromedp.CSS(".hentry summary")), // newest first: the archive
		waitText(".hentry .sides", `"archived"`), waitText(".hentry .sides", `"active"`),
		s.shot("webhook-update-history"))

	// Sign out: the token cookie is gone and pages ask to sign in again.
	run(t, ctx, "sign out",
		chromedp.Click(chromedp.CSS(".who button")), chromedp.WaitVisible(chromedp.ID("#client_id")),
		chromedp.Navigate(ui+"/webhooks"), chromedp.WaitVisible(chromedp.ID("#client_id")))
}

// TestBrowserReleasesAHeldLane drives a held lane in chromium against a
// real gateway: an ordered webhook with ordering_on_dead = "hold" gets
// three events of one work order; the receiver answers the first with a
// 404 (dead at once), so the other two wait. The webhook's page shows the
// held lane (work order, the dead delivery, two waiting); Release, through
// its confirmation, lets the lane go on and the waiting deliveries reach
// the receiver in the order their events were accepted.
func TestBrowserReleasesAHeldLane(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	lg := startGateway(t)
	rcv := newLaneReceiver(t)
	tok := lg.token(t)
	events := []string{"workorder.created", "workorder.status.published", "workorder.status.assigned"}
	webhookID := lg.createWebhook(t, tok, map[string]any{"url": rcv.url + "/hooks/fn", "method": "post", "status": "active",
		"events": events, "ordering": "work_order", "orderingOnDead": "hold"})
	for _, name := range events { // one at a time: accepted in this order, all of work order 12345
		lg.publish(t, tok, name)
	}
	dead := rcv.waitFor(t, 1)[0]
	if dead.event != events[0] || dead.sequence != "1" {
		t.Fatalf("first request %+v, want %s with X-FN-Sequence 1", dead, events[0])
	}
	deadID, _, _ := strings.Cut(dead.deliveryID, ":")

	ctx, cancel := browser(t)
	defer cancel()
	ui := lg.base + "/ui"
	run(t, ctx, "sign in",
		chromedp.Navigate(ui+"/webhooks/"+webhookID), chromedp.WaitVisible(chromedp.ID("#client_id")),
		chromedp.SendKeys(chromedp.ID("#client_id"), "acme"), chromedp.SendKeys(chromedp.ID("#client_secret"), "acme-secret"),
		chromedp.Submit(chromedp.ID("#client_secret")), waitText("h1", webhookID)) // back to the page asked for

	// The held lane: its work order, the dead delivery and its sequence,
	// why it died and how many wait behind it.
	lanes := `section[aria-labelledby=lanes-title]`
	reloadUntil(t, ctx, ui+"/webhooks/"+webhookID, lanes, "12345")
	run(t, ctx, "held lane", waitText("main", "a dead letter holds its work order"),
		waitText("#held-lanes", deadID+" (#1)"), waitText("#held-lanes", "404"))
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#held-lanes tbody tr")).flatMap(r => Array.from(r.cells).slice(0, 4).map(c => c.textContent.trim()))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 4 || cells[0] != "12345" || cells[3] != "2" {
		t.Fatalf("held lanes %q, want one row: work order 12345 … 2 waiting", cells)
	}
	if got := rcv.requests(); len(got) != 1 {
		t.Fatalf("the receiver got %d requests while the lane was held, want only the dead one: %+v", len(got), got)
	}

	// Release asks first (the browser's own confirm, accepted here).
	confirmed := make(chan string, 1)
	go func() {
		for ev, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			confirmed <- ev.Message
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			return
		}
	}()
	run(t, ctx, "release", chromedp.Click(chromedp.ID("#release-12345")), waitText(".flash", "Work order 12345 goes on"))
	select {
	case msg := <-confirmed:
		if !strings.Contains(msg, "12345") {
			t.Errorf("the confirmation %q does not name the work order", msg)
		}
	default:
		t.Error("Release did not ask for confirmation")
	}

	// The waiting deliveries arrive, in order, and the lane is no longer held.
	got := rcv.waitFor(t, 3)
	if len(got) != 3 || got[1].event != events[1] || got[1].sequence != "2" || got[2].event != events[2] || got[2].sequence != "3" {
		t.Fatalf("after the release the receiver got %+v, want %s #2 then %s #3", got, events[1], events[2])
	}
	run(t, ctx, "lane gone", chromedp.Navigate(ui+"/webhooks/"+webhookID), waitText("#no-held-lanes", "No work order is waiting"))
}
