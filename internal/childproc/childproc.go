// Package childproc holds how hookgate starts the processes it owns (a
// gateway's sinks, `hookgate bench`'s gateways) so that they do not outlive
// it.
package childproc

import "os/exec"

// DieWithParent asks the kernel to SIGKILL cmd's process when this one
// dies, even by SIGKILL, where nothing of ours runs to stop it. An orphan
// would keep its port, its data folder and its own children for ever. On
// systems without a parent-death signal it does nothing.
func DieWithParent(cmd *exec.Cmd) { dieWithParent(cmd) }
