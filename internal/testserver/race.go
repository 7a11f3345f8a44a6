//go:build race

package testserver

// race: the tests run under the race detector, so the binary they start is
// built with it too, and a race in the server is found under real load.
const race = true
