package cli

import (
	"fmt"
	"slices"

	"github.com/revdesk/webhooks/internal/bench"
)

// printHistory adds the history's figures to bench's report.
func printHistory(h *bench.HistoryResult) {
	if h == nil {
		return
	}
	fmt.Printf(`history            %d deliveries written in %.1fs (%.0f/s)
database size      %.1f MiB, %.0f bytes per delivery
`, h.Deliveries, h.Seconds, h.RowsPerSec, float64(h.DatabaseBytes)/(1<<20), h.BytesPerDelivery)
	var names []string
	for name := range h.Queries {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		q := h.Queries[name]
		fmt.Printf("query ms           %-32s p50 %.2f  p99 %.2f  max %.2f\n", name, q.P50, q.P99, q.Max)
	}
}
