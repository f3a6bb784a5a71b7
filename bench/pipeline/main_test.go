package main

import (
	"testing"
	"time"
)

func TestChangedRows(t *testing.T) {
	for _, c := range []struct {
		rates  []int
		length time.Duration
		want   int
	}{
		{[]int{100, 1000, 5000}, 20 * time.Second, 61000},
		{[]int{200}, 3 * time.Second, 300},
		{[]int{1}, time.Second, 1}, // one change still needs a row
		{nil, 20 * time.Second, 0},
	} {
		if got := changedRows(c.rates, c.length); got != c.want {
			t.Errorf("changedRows(%v, %v) = %d, want %d", c.rates, c.length, got, c.want)
		}
	}
}
