package benchrun

import (
	"fmt"
	"io"
)

// Print writes the report for a reader.
func (r *Report) Print(w io.Writer) {
	o := r.Options
	fmt.Fprintf(w, "hookgate bench: %d deliveries per run, %d connections, %d-byte envelopes, fan-out %d\n",
		o.Events, o.Connections, o.PayloadSize, o.FanOut)
	fmt.Fprintf(w, "%d CPUs, %s, %s; receiver, producers, gateway and sink share this machine\n\n", r.Machine.CPUs, r.Machine.OS, r.Machine.Go)
	fmt.Fprintf(w, "%-34s %9.0f requests/s      %6.1f µs CPU per request (client + receiver)\n",
		"plain Go client", r.Plain.RequestsPerSec, r.Plain.CPUMicros)
	cpus := func(c *CPUUse) {
		if c != nil {
			fmt.Fprintf(w, "%-34s the CPUs %.0f %% idle, %.0f %% stolen by the hypervisor\n", "", c.IdlePercent, c.StolenPercent)
		}
	}
	cpus(r.Plain.CPUUse)
	row := func(name string, d Delivery, bench string) {
		fmt.Fprintf(w, "%-34s %9.0f deliveries/s    %5.1f %% of plain\n", name, d.DeliveriesPerSec, d.PercentOfPlain)
		fmt.Fprintf(w, "%-34s µs CPU per delivery: gateway %.1f, sink %.1f, %s %.1f\n", "", d.GatewayCPUMicros, d.SinkCPUMicros, bench, d.BenchCPUMicros)
		cpus(d.CPUUse)
	}
	row("gateway, draining accepted", r.Drain, "receiver")
	row("gateway, publish and deliver", r.Publish, "producers + receiver")
	fmt.Fprintf(w, "%-34s %9.0f events/s\n", "", r.Publish.EventsPerSec)
	if l := r.Latency; l != nil {
		fmt.Fprintf(w, "\npaced %d events/s for %.0f s (%d events, achieved %.0f/s):\n", l.Rate, o.PacedSec, l.Events, l.AchievedRate)
		fmt.Fprintf(w, "  accepted → received   p50 %6.2f ms   p99 %6.2f ms\n", l.AcceptedP50ms, l.AcceptedP99ms)
		fmt.Fprintf(w, "  published → received  p50 %6.2f ms   p99 %6.2f ms\n", l.PublishedP50ms, l.PublishedP99ms)
	}
}
