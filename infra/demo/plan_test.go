package demo

import (
	"os"
	"reflect"
	"testing"
	"time"
)

func testConfig(t *testing.T) Config {
	t.Helper()
	tz, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return Config{TZ: tz, LastDay: "2026-11-27", Cutoff: time.Date(2026, 11, 27, 15, 30, 0, 0, tz)}
}

func TestPlanIsDeterministic(t *testing.T) {
	a, err := NewPlan(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewPlan(testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two plans of one config differ")
	}
	if os.Getenv("DEMO_PRINT") != "" {
		a.Expected().Print(os.Stdout, "plan")
	}
}
