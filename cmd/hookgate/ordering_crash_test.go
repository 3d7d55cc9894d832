package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// laneReceiver records, per work order, the X-FN-Sequence of every
// delivery it acknowledged, in the order it acknowledged them; until hold
// is closed it keeps requests open (in flight when the gateway dies).
type laneReceiver struct {
	mu   sync.Mutex
	seqs map[string][]int
	n    int
	hold chan struct{}
	busy chan struct{}
}

func (r *laneReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !holdOpen(req, r.busy, r.hold) {
		return // the gateway died: not acknowledged
	}
	seq, _ := strconv.Atoi(req.Header.Get("X-FN-Sequence"))
	r.mu.Lock()
	wo := req.URL.Query().Get("wo")
	r.seqs[wo] = append(r.seqs[wo], seq)
	r.n++
	r.mu.Unlock()
	w.WriteHeader(200)
}

// TestKill9KeepsWorkOrderOrder: SIGKILL an ordered webhook's gateway with
// deliveries in flight and queued; after the restart every work order's
// deliveries are acknowledged in their order (a delivery cut off by the
// crash may be sent again: at least once, same sequence), none missing.
func TestKill9KeepsWorkOrderOrder(t *testing.T) {
	const workOrders, perWO = 10, 10
	rc := &laneReceiver{seqs: map[string][]int{}, hold: make(chan struct{}), busy: make(chan struct{}, 1)}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	addr := freePort(t)
	cfg := strings.Replace(fmt.Sprintf(crashConfig, addr, filepath.Join(dir, "data"), srv.URL),
		`url        = "`+srv.URL+`/hook"`, `url        = "`+srv.URL+`/hook?wo={{ workorder.id }}"`+"\n  ordering   = \"work_order\"", 1)
	cfgPath := filepath.Join(dir, "gateway.hcl")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := startChild(t, cfgPath, addr)
	tok := gw.token(t)
	for k := range perWO {
		for wo := 1; wo <= workOrders; wo++ {
			if gw.publish(tok, wo) == "" {
				t.Fatalf("event %d of work order %d not accepted", k+1, wo)
			}
		}
	}
	<-rc.busy // deliveries are in flight, the rest queued
	if err := gw.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	gw.cmd.Wait()
	close(rc.hold)

	gw = startChild(t, cfgPath, addr)
	defer func() {
		gw.cmd.Process.Signal(syscall.SIGTERM)
		gw.cmd.Wait()
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rc.mu.Lock()
		done := lanesInOrder(rc.seqs, workOrders, perWO)
		n := rc.n
		rc.mu.Unlock()
		if done == workOrders {
			break
		}
		if time.Now().After(deadline) {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			t.Fatalf("after 60 s, %d of %d work orders complete and in order (%d acknowledged): %v\n%s", done, workOrders, n, rc.seqs, gw.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.n > workOrders*perWO+8 { // at most the 8 workers' deliveries cut off by the kill come twice
		t.Errorf("%d acknowledgements for %d deliveries", rc.n, workOrders*perWO)
	}
}

// lanesInOrder counts the work orders 1..workOrders whose acknowledged
// sequences are 1..perWO in order; a sequence repeated at once (sent again
// after a crash cut its answer off) counts once.
func lanesInOrder(seqs map[string][]int, workOrders, perWO int) int {
	want := make([]int, perWO)
	for i := range want {
		want[i] = i + 1
	}
	done := 0
	for wo := 1; wo <= workOrders; wo++ {
		if slices.Equal(slices.Compact(slices.Clone(seqs[strconv.Itoa(wo)])), want) {
			done++
		}
	}
	return done
}
