package webhook

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a settable time for the Deduplicator's TTL.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func setupDedup(max int, ttl time.Duration) (*Deduplicator, *clock) {
	c := &clock{t: time.Unix(1782847800, 0)}
	d := NewDeduplicator(max, ttl)
	d.now = c.now
	return d, c
}

func TestDeduplicator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(d *Deduplicator, c *clock) error
	}{
		{"second sighting is a duplicate", func(d *Deduplicator, c *clock) error {
			if !d.First("dlv_1") || d.First("dlv_1") {
				return fmt.Errorf("want new, then duplicate")
			}
			return nil
		}},
		{"other ids are new", func(d *Deduplicator, c *clock) error {
			if !d.First("dlv_1") || !d.First("dlv_2") {
				return fmt.Errorf("distinct ids reported as duplicates")
			}
			return nil
		}},
		{"forgotten after the TTL", func(d *Deduplicator, c *clock) error {
			d.First("dlv_1")
			c.add(time.Hour - time.Second)
			if d.First("dlv_1") {
				return fmt.Errorf("forgotten before the TTL")
			}
			c.add(time.Second)
			if !d.First("dlv_1") {
				return fmt.Errorf("remembered past the TTL")
			}
			return nil
		}},
		{"Forget lets the retry through", func(d *Deduplicator, c *clock) error {
			d.First("dlv_1")
			d.Forget("dlv_1")
			d.Forget("dlv_unknown")
			if !d.First("dlv_1") {
				return fmt.Errorf("still remembered after Forget")
			}
			return nil
		}},
		{"bounded: the oldest go first", func(d *Deduplicator, c *clock) error {
			for i := range 10 {
				d.First(fmt.Sprint("dlv_", i))
			}
			if d.Len() != 3 {
				return fmt.Errorf("holds %d ids, max 3", d.Len())
			}
			if d.First("dlv_9") || !d.First("dlv_0") {
				return fmt.Errorf("kept the wrong ids")
			}
			return nil
		}},
		{"expired ids are dropped from memory", func(d *Deduplicator, c *clock) error {
			d.First("dlv_1")
			d.First("dlv_2")
			c.add(time.Hour)
			if n := d.Len(); n != 0 {
				return fmt.Errorf("holds %d expired ids", n)
			}
			return nil
		}},
		{"empty id is always new", func(d *Deduplicator, c *clock) error {
			first, again := d.First(""), d.First("")
			if !first || !again || d.Len() != 0 {
				return fmt.Errorf("empty id remembered")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, c := setupDedup(3, time.Hour)
			if err := tt.run(d, c); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestDeduplicatorConcurrent: of many goroutines offering the same id, one
// wins (run with -race).
func TestDeduplicatorConcurrent(t *testing.T) {
	t.Parallel()
	d := NewDeduplicator(100, time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 16 {
		wg.Go(func() {
			if d.First("dlv_same") {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d goroutines saw dlv_same first", wins)
	}
}
