package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFillingItsDiskStopsTheGateway: the real binary, its data folder on a
// 192 MB tmpfs, fed 900 KB events until the disk would be full. Without
// the free-space guard Badger's mmap writes end in SIGBUS (docs/hostile-
// input.md); with it, publishes get 507 while the default 64 MiB are still
// free, the process lives on, and once the file system grows it accepts
// again. Needs root to mount the tmpfs.
func TestFillingItsDiskStopsTheGateway(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root; the guard's logic is tested without it in gateway/diskguard_test.go")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o700)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=192m", "tmpfs", data).CombinedOutput(); err != nil {
		// As the chaos test does: a root without mount rights (some
		// containers) cannot run this; the unit test still covers the guard.
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", data).Run() })
	addr := freePort(t)
	cfgPath := filepath.Join(dir, "gateway.hcl")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(benchConfig, addr, data, "")), 0o600) // no webhooks: events only
	c := startChild(t, cfgPath, addr)
	tok := c.token(t)

	publish := func(i int) int {
		body := fmt.Sprintf(`{"event":{"name":"workorder.created","params":{"work_order_id":%d,"work_order_company_id":100}},`+
			`"timestamp":"2026-01-20T08:55:58-06:00","triggered_by_user":{"id":1068},"workorder":{"id":%d,"title":%q}}`,
			i, i, strings.Repeat("x", 900<<10))
		req, _ := http.NewRequest("POST", c.base+"/api/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("publish %d: %v (the gateway died?)\n%s", i, err, c.logs)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	accepted, refused := 0, 0
	for i := 1; i <= 400 && refused < 5; i++ { // 400 × 900 KB is twice the disk
		switch st := publish(i); st {
		case 202:
			if refused > 0 {
				t.Fatalf("event %d accepted after a 507 while the disk is still low", i)
			}
			accepted++
		case 507:
			refused++
		default:
			t.Fatalf("publish %d: %d\n%s", i, st, c.logs)
		}
	}
	var st unix.Statfs_t
	if err := unix.Statfs(data, &st); err != nil {
		t.Fatal(err)
	}
	free := st.Bavail * uint64(st.Bsize)
	t.Logf("%d events of 900 KB accepted, then 507; %d MiB of 192 still free", accepted, free>>20)
	if refused == 0 || accepted == 0 {
		t.Fatalf("accepted %d, refused %d: the guard never refused", accepted, refused)
	}
	if free < 16<<20 {
		t.Errorf("only %d MiB free when the guard refused: it acted too late", free>>20)
	}
	if c.cmd.ProcessState != nil || c.cmd.Process.Signal(syscall.Signal(0)) != nil {
		t.Fatalf("the gateway died:\n%s", c.logs)
	}

	// More room: it accepts again (within a few guard checks).
	if out, err := exec.Command("mount", "-o", "remount,size=512m", data).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v %s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for publish(1000) != 202 {
		if time.Now().After(deadline) {
			t.Fatalf("still refused 10s after the disk grew:\n%s", c.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("shutdown: %v\n%s", err, c.logs)
	}
	if !strings.Contains(c.logs.String(), "data folder low on space") {
		t.Errorf("the log does not say why publishes were refused:\n%s", c.logs)
	}
}
