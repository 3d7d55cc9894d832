package host

import (
	"os/exec"
	"syscall"
)

// dieWithParent asks the kernel to SIGKILL the sink when the gateway dies,
// even by SIGKILL: go-plugin cannot clean up after a killed host, and an
// orphaned sink would keep its resources (and, for a custom sink, maybe a
// connection to a remote service) for ever.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
