package delivery

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []time.Duration
		wantErr bool
	}{
		{"empty is no retries", "", nil, false},
		{"blank is no retries", "  \t", nil, false},
		{"one", "5s", []time.Duration{5 * time.Second}, false},
		{"several", "1s,1s,2s", []time.Duration{time.Second, time.Second, 2 * time.Second}, false},
		{"spaces around items", " 1s , 5m,\t2h30m ", []time.Duration{time.Second, 5 * time.Minute, 150 * time.Minute}, false},
		{"zero delay allowed", "0s,0", []time.Duration{0, 0}, false},
		{"sub-second", "250ms", []time.Duration{250 * time.Millisecond}, false},
		{"negative", "1s,-1s", nil, true},
		{"no unit", "5", nil, true},
		{"garbage", "soon", nil, true},
		{"empty item", "1s,,2s", nil, true},
		{"trailing comma", "1s,", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSchedule(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSchedule(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				t.Log(err)
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseSchedule(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatScheduleRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []time.Duration
		want string
	}{
		{"default", DefaultRetrySchedule, "5s,5m,30m,2h,5h,10h,10h"},
		{"empty", nil, ""},
		{"mixed", []time.Duration{0, 1500 * time.Millisecond, 10 * time.Second}, "0s,1.5s,10s"},
		{"zero units inside kept", []time.Duration{time.Hour + 5*time.Second, 90 * time.Minute, 10*time.Minute + 500*time.Millisecond}, "1h0m5s,1h30m,10m0.5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := FormatSchedule(tt.in)
			if s != tt.want {
				t.Errorf("FormatSchedule(%v) = %q, want %q", tt.in, s, tt.want)
			}
			back, err := ParseSchedule(s)
			if err != nil {
				t.Fatalf("ParseSchedule(FormatSchedule(%v)): %v", tt.in, err)
			}
			if !slices.Equal(back, tt.in) {
				t.Errorf("round trip of %v gave %v", tt.in, back)
			}
		})
	}
}

func TestJitter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    time.Duration
	}{
		{"zero", 0},
		{"negative", -time.Second},
		{"seconds", 5 * time.Second},
		{"hours", 10 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.d <= 0 {
				for range 100 {
					if got := jitter(tt.d); got != 0 {
						t.Fatalf("jitter(%v) = %v, want 0", tt.d, got)
					}
				}
				return
			}
			lo, hi := tt.d-tt.d/5, tt.d+tt.d/5
			distinct := map[time.Duration]bool{}
			below, above := false, false
			for range 2000 {
				got := jitter(tt.d)
				if got < lo || got > hi {
					t.Fatalf("jitter(%v) = %v, outside [%v, %v]", tt.d, got, lo, hi)
				}
				distinct[got] = true
				below = below || got < tt.d
				above = above || got > tt.d
			}
			// Retries that failed together must not come back together.
			if len(distinct) < 100 || !below || !above {
				t.Errorf("jitter(%v) spread poorly: %d distinct values, some below %v, some above %v", tt.d, len(distinct), below, above)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 30, 19, 30, 0, 0, time.UTC)
	const limit = time.Hour
	tests := []struct {
		name   string
		value  string // "" leaves the header out
		want   time.Duration
		wantOK bool
	}{
		{"absent", "", 0, false},
		{"seconds", "120", 2 * time.Minute, true},
		{"seconds with spaces", " 7 ", 7 * time.Second, true},
		{"zero", "0", 0, true},
		{"negative seconds clamp to zero", "-30", 0, true},
		{"seconds over the cap", "86400", limit, true},
		{"http date ahead", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"http date passed", now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"http date past the cap", now.Add(48 * time.Hour).Format(http.TimeFormat), limit, true},
		{"fractional seconds", "1.5", 0, false},
		{"garbage", "later", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			got, ok := retryAfter(h, now, limit)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
