package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/store/postgres"
	"github.com/hookgate/hookgate/store/postgres/pgtest"
)

// startPostgres starts a throwaway PostgreSQL cluster for one test (or
// benchmark) and returns a fresh migrated database in it. Missing or
// broken PostgreSQL fails the test: the replicas are a requirement, not an
// optional extra.
func startPostgres(tb testing.TB, durable bool) (cluster *pgtest.Cluster, dsn string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := pgtest.Start(ctx, pgtest.Options{Durable: durable})
	if err != nil {
		tb.Fatalf("cannot start a throwaway PostgreSQL for the replicas test: %v", err)
	}
	tb.Cleanup(func() {
		if err := c.Stop(); err != nil {
			tb.Log(err)
		}
	})
	// An empty database: the first replica's `serve` migrates it.
	if dsn, err = c.NewEmptyDatabase(ctx); err != nil {
		tb.Fatal(err)
	}
	return c, dsn
}

const replicaConfig = `
server  { listen = "%s" }
storage {
  driver = "postgres"
  dsn    = "%s"
  lease  = "%s"
  path   = "%s"
}
delivery {
  timeout = "2s"
  workers = %d
  allow_http = true
  allow_private_networks = true
  # One company: these tests are about leases, not about sharing workers
  # between companies, and the kill below waits for replica 2's workers to
  # be busy, which a lone company's spare workers would never be.
  spare_workers = 0
}
# The tests poll the API of every replica; the shared rate limit is not
# what they check.
api {
  rate_limit = 60000
  rate_burst = 1000
}
auth {
  client "acme" {
    secret     = "acme-secret"
    company_id = 100
    scopes     = ["events:publish", "webhooks:read", "webhooks:write"]
  }
}
%s
`

// receiverWebhook is the one webhook of the replicas test.
const receiverWebhook = `webhook "receiver" {
  company_id = 100
  url        = "%s/hook"
  events     = ["workorder.created"]
  secret     = "01999f51-5c66-4449-b441-6b4a053fee6a"
}`

// replicaLease is the shortest lease the config accepts for a 2s timeout
// (timeout + 10s grace): a dead replica's claims come back after it.
const replicaLease = 12 * time.Second

// writeReplicaConfig writes replica i's config (own port, own pid folder,
// the shared database, the webhook blocks given) and returns its path and address.
func writeReplicaConfig(tb testing.TB, dir string, i int, dsn, webhooks string, workers int) (string, string) {
	addr := freePort(tb)
	path := filepath.Join(dir, fmt.Sprintf("replica%d.hcl", i))
	data := filepath.Join(dir, fmt.Sprintf("replica%d", i))
	cfg := fmt.Sprintf(replicaConfig, addr, dsn, replicaLease, data, workers, webhooks)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path, addr
}

// replicaSet is n gateways on one database, each with its own config
// (writeReplicaConfig), started together (migrations and the HCL reconcile
// run once each, under their advisory locks) and stopped when the test
// ends; paths and addrs let a test start a killed one again.
type replicaSet struct {
	gws          []*child
	paths, addrs []string
}

func startReplicas(tb testing.TB, dsn, webhooks string, n, workers int) *replicaSet {
	tb.Helper()
	dir := tb.TempDir()
	rs := &replicaSet{gws: make([]*child, n), paths: make([]string, n), addrs: make([]string, n)}
	for i := range n {
		rs.paths[i], rs.addrs[i] = writeReplicaConfig(tb, dir, i, dsn, webhooks, workers)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { rs.gws[i] = startChildTB(tb, rs.paths[i], rs.addrs[i]) })
	}
	wg.Wait()
	tb.Cleanup(func() {
		for _, g := range rs.gws {
			if g != nil {
				g.stop()
			}
		}
	})
	return rs
}

// overlapReceiver answers after a short delay and watches for the same
// delivery uuid being in flight twice at once (two replicas sending it).
// A request whose sender dies mid-way is "cut": it was not delivered.
type overlapReceiver struct {
	delay time.Duration

	mu       sync.Mutex
	gate     chan struct{}        // while non-nil, no request is answered until it closes (holdAll)
	active   map[string]int       // delivery uuid -> requests in progress
	overlaps []string             // "uuid:attempt" received while the uuid was in progress
	seen     map[string]int       // trace id -> completed deliveries
	uuids    map[string]string    // trace id -> delivery uuid (one per trace: one webhook)
	cut      map[string]time.Time // delivery uuid -> when its request was cut off
	resent   map[string]time.Time // cut delivery uuid -> when it was then delivered
	answered map[string]time.Time // delivery uuid -> when the receiver first answered it
	again    map[string]time.Time // answered delivery uuid -> when it was delivered again
	paths    map[string]int       // URL path -> completed deliveries
	done     atomic.Int64
}

func newOverlapReceiver(delay time.Duration) *overlapReceiver {
	return &overlapReceiver{delay: delay, active: map[string]int{}, seen: map[string]int{}, uuids: map[string]string{},
		cut: map[string]time.Time{}, resent: map[string]time.Time{}, paths: map[string]int{},
		answered: map[string]time.Time{}, again: map[string]time.Time{}}
}

func (r *overlapReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, req.Body)
	logID := req.Header.Get("X-FN-Delivery-Id")
	id, _, _ := strings.Cut(logID, ":")
	trace := req.Header.Get("X-FN-Event-Trace-Id")
	r.mu.Lock()
	if r.active[id] > 0 {
		r.overlaps = append(r.overlaps, logID)
	}
	r.active[id]++
	r.mu.Unlock()
	t := time.NewTimer(r.delay)
	defer t.Stop()
	cutOff := func() {
		r.mu.Lock()
		r.active[id]--
		r.cut[id] = time.Now()
		r.mu.Unlock()
	}
	select {
	case <-t.C:
	case <-req.Context().Done():
		cutOff()
		return
	}
	r.mu.Lock()
	gate := r.gate
	r.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-req.Context().Done():
			cutOff()
			return
		}
	}
	r.mu.Lock()
	r.active[id]--
	r.seen[trace]++
	r.paths[req.URL.Path]++
	if prev, ok := r.uuids[trace]; ok && prev != id && !strings.HasPrefix(prev, "MISMATCH") {
		r.uuids[trace] = "MISMATCH " + prev + " " + id
	} else if !ok {
		r.uuids[trace] = id
	}
	if _, wasCut := r.cut[id]; wasCut {
		if _, ok := r.resent[id]; !ok {
			r.resent[id] = time.Now()
		}
	}
	if _, ok := r.answered[id]; !ok {
		r.answered[id] = time.Now()
	} else if _, ok := r.again[id]; !ok {
		r.again[id] = time.Now()
	}
	r.mu.Unlock()
	r.done.Add(1)
	w.WriteHeader(200)
}

// killHolding SIGKILLs victim once it has at least atLeast deliveries in
// flight, the receiver holding every answer from the reading of that count
// until the kill has cut them off; before runs just before the kill. The
// victim's sink dies a few milliseconds after it (by Pdeathsig, once the
// gateway has exited), and an answer released in between reached the live
// sink: the delivery counted as answered, and the kill cut nothing
// (make test failed so, twice; BenchmarkLeaseHandover 2 runs in 3). The
// hold, at most 0.7 + 0.1 + 0.7 s, ends inside the 2 s delivery timeout,
// or the survivors' sinks would give up on the requests held for them. It
// tries up to 20 holds; n is the last reading, below atLeast if none reached it.
func killHolding(rc *overlapReceiver, victim *child, atLeast int, before func()) (killAt time.Time, n int) {
	for try := 0; ; try++ {
		release := rc.holdAll()
		for wait := time.Now().Add(700 * time.Millisecond); n < atLeast && time.Now().Before(wait); n = victim.inFlight() {
			time.Sleep(5 * time.Millisecond)
		}
		if n < atLeast && try < 20 {
			release()
			time.Sleep(300 * time.Millisecond)
			continue
		}
		// Deliveries are counted from their claim: give the last ones
		// claimed time to reach the receiver.
		time.Sleep(100 * time.Millisecond)
		if before != nil {
			before()
		}
		killAt = time.Now()
		victim.cmd.Process.Signal(syscall.SIGKILL)
		victim.cmd.Wait()
		for wait := time.Now().Add(700 * time.Millisecond); time.Now().Before(wait); time.Sleep(5 * time.Millisecond) {
			if _, cut, _ := rc.pickup(killAt); cut > 0 {
				break
			}
		}
		release()
		return killAt, n
	}
}

// holdAll stops answering: every request, those already waiting out the
// delay too, stays in flight until the returned release is called (or its
// sender gives up). A replica's in-flight count read while held cannot go
// down, so a kill that follows it is sure to cut deliveries off.
func (r *overlapReceiver) holdAll() (release func()) {
	gate := make(chan struct{})
	r.mu.Lock()
	r.gate = gate
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		r.gate = nil
		r.mu.Unlock()
		close(gate)
	}
}

// handedOver counts the deliveries the receiver had answered before kill
// and got again after it: answered, but killed before their outcome was
// written (the recorder writes outcomes in batches), so a survivor sent
// them again once the dead replica's lease ended — the hand-over too.
func (r *overlapReceiver) handedOver(kill time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id, at := range r.again {
		if r.answered[id].Before(kill) && at.After(kill) {
			n++
		}
	}
	return n
}

// missing counts the accepted traces not delivered yet.
func (r *overlapReceiver) missing(accepted []string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, tr := range accepted {
		if r.seen[tr] == 0 {
			n++
		}
	}
	return n
}

// pickup is how long after kill the last delivery cut by the kill was
// delivered again, and how many were cut.
func (r *overlapReceiver) pickup(kill time.Time) (time.Duration, int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var worst time.Duration
	cut, back := 0, 0
	for id, at := range r.cut {
		if at.Before(kill) {
			continue
		}
		cut++
		if re, ok := r.resent[id]; ok {
			back++
			worst = max(worst, re.Sub(kill))
		}
	}
	return worst, cut, back
}

// logsOf reads the delivery-log ids (newest first, up to 500) and the total
// from one replica's API.
func logsOf(t *testing.T, c *child, tok string) ([]string, int) {
	t.Helper()
	req, _ := http.NewRequest("GET", c.base+"/api/v1/webhooks/delivery-logs?perPage=500", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Metadata struct{ Total int } `json:"metadata"`
		Result   []struct {
			DeliveryID string `json:"deliveryId"`
		} `json:"result"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&body) != nil {
		t.Fatalf("delivery logs from %s: %d", c.base, resp.StatusCode)
	}
	ids := make([]string, len(body.Result))
	for i, r := range body.Result {
		ids[i] = r.DeliveryID
	}
	return ids, body.Metadata.Total
}

// TestReplicasShareOneDatabase: three gateway processes on one PostgreSQL
// and one load of events, published to all three; one replica is SIGKILLed
// mid-load. Every accepted event is delivered at least once (the dead
// replica's claims come back when their lease ends, with the same delivery
// uuid), no delivery is in flight on two replicas at once, and every
// replica's API shows the same delivery logs.
func TestReplicasShareOneDatabase(t *testing.T) {
	_, dsn := startPostgres(t, false)
	// Slow enough that every replica has all its workers busy when one is
	// killed, and that a delivery in flight spends most of its time at the
	// receiver (not claiming or recording), so the kill cuts some off.
	rc := newOverlapReceiver(250 * time.Millisecond)
	srv := httptestServer(rc)
	defer srv.Close()
	rs := startReplicas(t, dsn, fmt.Sprintf(receiverWebhook, srv.URL), 3, 8)
	gws := rs.gws
	tok := gws[0].token(t) // one signing key in the shared store: valid on every replica

	const events = 600
	var mu sync.Mutex
	var accepted []string
	var next atomic.Int64
	var killed atomic.Bool
	var killAt time.Time
	// The killer waits for a third of the load, then for replica 2 to have
	// deliveries in flight, so the kill cuts some off mid-way (without the
	// wait it could land between two claims and test nothing).
	killDone := make(chan struct{})
	go func() {
		defer close(killDone)
		for next.Load() < events/3 {
			time.Sleep(5 * time.Millisecond)
		}
		var n int
		killAt, n = killHolding(rc, gws[2], 6, func() { killed.Store(true) })
		if n < 6 {
			t.Errorf("replica 2 never had 6 deliveries in flight (last reading %d)", n)
		}
		t.Logf("killed replica 2 with %d deliveries in flight, %d events published", n, next.Load())
	}()
	var pub sync.WaitGroup
	for w := range 6 {
		pub.Go(func() {
			for {
				i := int(next.Add(1))
				if i > events {
					return
				}
				r := (i + w) % 3
				if r == 2 && killed.Load() {
					r = i % 2
				}
				if tr := gws[r].publish(tok, i); tr != "" {
					mu.Lock()
					accepted = append(accepted, tr)
					mu.Unlock()
				}
			}
		})
	}
	pub.Wait()
	<-killDone
	if len(accepted) < events*9/10 {
		t.Fatalf("accepted only %d of %d events", len(accepted), events)
	}

	deadline := time.Now().Add(2*replicaLease + 60*time.Second)
	for rc.missing(accepted) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted events never delivered", rc.missing(accepted), len(accepted))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A kill that cut nothing at the receiver caught its deliveries
	// answered and not yet recorded: a survivor sends them again once the
	// dead replica's lease ends, which may come after every event was seen.
	for wait := killAt.Add(2 * replicaLease); rc.handedOver(killAt) == 0 && time.Now().Before(wait); {
		if _, cut, _ := rc.pickup(killAt); cut > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	took, cut, back := rc.pickup(killAt)
	t.Logf("%d events accepted, all delivered; %d deliveries cut by the SIGKILL, %d re-sent by a survivor, the last %v after the kill (lease %v)",
		len(accepted), cut, back, took.Round(time.Millisecond), replicaLease)
	handed := rc.handedOver(killAt)
	t.Logf("%d deliveries answered before the kill but not yet recorded were sent again after it", handed)
	if cut == 0 && handed == 0 {
		t.Error("the killed replica had no delivery in flight: the test did not exercise a lease hand-over")
	}
	rc.mu.Lock()
	if len(rc.overlaps) > 0 {
		t.Errorf("%d deliveries were in flight on two replicas at once, e.g. %v", len(rc.overlaps), rc.overlaps[:min(5, len(rc.overlaps))])
	}
	for tr, id := range rc.uuids {
		if strings.HasPrefix(id, "MISMATCH") {
			t.Errorf("event %s delivered under two delivery uuids: %s", tr, id)
		}
	}
	rc.mu.Unlock()

	// The killed replica comes back; every replica's API shows the same logs.
	gws[2] = startChild(t, rs.paths[2], rs.addrs[2])
	// A delivery the killed replica sent but had not recorded is recorded
	// only when its lease ends and a survivor re-sends it: compare again
	// until they agree, for up to a lease and then some.
	var diff string
	for wait := time.Now().Add(replicaLease + 30*time.Second); ; {
		diff = ""
		var want []string
		wantTotal := 0
		for i, g := range gws {
			ids, total := logsOf(t, g, tok)
			if total < len(accepted) {
				diff = fmt.Sprintf("replica %d shows %d delivery logs, want at least %d", i, total, len(accepted))
			}
			if i == 0 {
				want, wantTotal = ids, total
			} else if total != wantTotal || !slices.Equal(ids, want) {
				diff = fmt.Sprintf("replica %d shows %d logs (%d on the page), replica 0 shows %d (%d)", i, total, len(ids), wantTotal, len(want))
			}
		}
		if diff == "" || time.Now().After(wait) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if diff != "" {
		t.Error(diff)
	}

	// A webhook created through one replica is served by the others (each
	// reloads its webhook index from the database every 2s).
	body := fmt.Sprintf(`{"url":%q,"method":"post","status":"active","events":["workorder.created"]}`, srv.URL+"/second")
	req, _ := http.NewRequest("POST", gws[0].base+"/api/v1/webhooks", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("creating a webhook on replica 0: %v %v", err, resp)
	}
	resp.Body.Close()
	time.Sleep(2500 * time.Millisecond)
	for _, g := range gws[1:] {
		if g.publish(tok, 5000) == "" {
			t.Fatal("publish refused")
		}
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		rc.mu.Lock()
		n := rc.paths["/second"]
		rc.mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook created on replica 0 got %d of the 2 events published on replicas 1 and 2", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMigrateCommand: `hookgate migrate` applies the migrations once and
// reports the schema version; a second run applies nothing; with Badger
// there is nothing to migrate.
func TestMigrateCommand(t *testing.T) {
	_, dsn := startPostgres(t, false)
	dir := t.TempDir()
	path, _ := writeReplicaConfig(t, dir, 0, dsn, fmt.Sprintf(receiverWebhook, "http://127.0.0.1:1"), 1)
	run := func(cfg string) string {
		out, err := exec.Command(binary, "migrate", "--config", cfg).CombinedOutput()
		if err != nil {
			t.Fatalf("hookgate migrate: %v\n%s", err, out)
		}
		return string(out)
	}
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if out := run(path); !strings.Contains(out, "applied migration 0001") ||
		!strings.Contains(out, fmt.Sprintf("(%d applied now)", len(ms))) {
		t.Fatalf("first migrate:\n%s", out)
	}
	if out := run(path); strings.Contains(out, "applied migration") || !strings.Contains(out, "(0 applied now)") {
		t.Fatalf("second migrate:\n%s", out)
	}
	badger := filepath.Join(dir, "badger.hcl")
	os.WriteFile(badger, []byte(fmt.Sprintf("storage { path = %q }\n", filepath.Join(dir, "data"))), 0o600)
	if out := run(badger); !strings.Contains(out, "nothing to migrate") {
		t.Fatalf("badger migrate:\n%s", out)
	}
}
