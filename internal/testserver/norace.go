//go:build !race

package testserver

const race = false
