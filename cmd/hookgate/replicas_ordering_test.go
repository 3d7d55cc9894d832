package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// orderedWebhook is the replicas' ordered webhook: the work order rides in
// the query so the receiver can tell lanes apart.
const orderedWebhook = `webhook "receiver" {
  company_id = 100
  url        = "%s/hook?wo={{ workorder.id }}"
  events     = ["workorder.created"]
  secret     = "01999f51-5c66-4449-b441-6b4a053fee6a"
  ordering   = "work_order"
}`

// laneWatch answers after a delay and records, per work order, the
// sequences it acknowledged and whether two requests of one work order
// were ever in progress at once (two replicas, or two workers, on a lane).
type laneWatch struct {
	delay    time.Duration
	mu       sync.Mutex
	active   map[string]int
	overlaps int
	seqs     map[string][]int
}

func (r *laneWatch) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, req.Body)
	wo := req.URL.Query().Get("wo")
	r.mu.Lock()
	if r.active[wo] > 0 {
		r.overlaps++
	}
	r.active[wo]++
	r.mu.Unlock()
	defer func() { r.mu.Lock(); r.active[wo]--; r.mu.Unlock() }()
	select {
	case <-time.After(r.delay):
	case <-req.Context().Done():
		return // its replica died: not acknowledged
	}
	seq, _ := strconv.Atoi(req.Header.Get("X-FN-Sequence"))
	r.mu.Lock()
	r.seqs[wo] = append(r.seqs[wo], seq)
	r.mu.Unlock()
	w.WriteHeader(200)
}

// TestReplicasKeepWorkOrderOrder: two replicas share an ordered webhook's
// queue on PostgreSQL; one is killed with deliveries in flight. Each work
// order's deliveries are still acknowledged in order and complete (the
// dead replica's lanes go on once its leases end), and no work order ever
// has two deliveries in progress at once.
func TestReplicasKeepWorkOrderOrder(t *testing.T) {
	const workOrders, perWO = 16, 6
	_, dsn := startPostgres(t, false)
	rc := &laneWatch{delay: 30 * time.Millisecond, active: map[string]int{}, seqs: map[string][]int{}}
	srv := httptestServer(rc)
	defer srv.Close()
	gws := startReplicas(t, dsn, fmt.Sprintf(orderedWebhook, srv.URL), 2, 4).gws
	tok := gws[0].token(t)
	for k := range perWO {
		for wo := 1; wo <= workOrders; wo++ {
			if gws[(k+wo)%2].publish(tok, wo) == "" {
				t.Fatalf("event %d of work order %d not accepted", k+1, wo)
			}
		}
	}
	for wait := time.Now().Add(30 * time.Second); gws[1].inFlight() < 1 && time.Now().Before(wait); {
		time.Sleep(5 * time.Millisecond)
	}
	gws[1].cmd.Process.Signal(syscall.SIGKILL)
	gws[1].cmd.Wait()

	deadline := time.Now().Add(replicaLease + 60*time.Second)
	for {
		rc.mu.Lock()
		done := lanesInOrder(rc.seqs, workOrders, perWO)
		rc.mu.Unlock()
		if done == workOrders {
			break
		}
		if time.Now().After(deadline) {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			t.Fatalf("%d of %d work orders complete and in order: %v\n%s", done, workOrders, rc.seqs, gws[0].logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.overlaps > 0 {
		t.Errorf("%d times a work order had two deliveries in progress at once", rc.overlaps)
	}
}
