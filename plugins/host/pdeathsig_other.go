//go:build !linux

package host

import "os/exec"

// dieWithParent is a no-op where the kernel has no parent-death signal;
// go-plugin's own cleanup covers graceful exits there.
func dieWithParent(*exec.Cmd) {}
