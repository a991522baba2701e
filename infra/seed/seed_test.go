package seed

import (
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/market"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

func TestCategories(t *testing.T) {
	cats, err := Categories()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"垃圾": false, "占道经营": false, "乱停车": false, "路灯": false, "道路破损": false,
		"井盖": false, "不文明养犬": false, "违章搭建": false, "噪音": false, "其他": false}
	codes := map[string]bool{}
	for _, c := range cats {
		if _, ok := want[c.NameZH]; ok {
			want[c.NameZH] = true
		}
		if codes[c.Code] {
			t.Errorf("duplicate code %s", c.Code)
		}
		codes[c.Code] = true
		if c.Code == "" || c.NameEN == "" || c.Points <= 0 || c.SLAHours <= 0 || !c.Active {
			t.Errorf("incomplete category %+v", c)
		}
	}
	for name, seen := range want {
		if !seen {
			t.Errorf("category %s missing", name)
		}
	}
}

func TestDispatchSeedIsConsistent(t *testing.T) {
	depts, err := Departments()
	if err != nil {
		t.Fatal(err)
	}
	if len(depts) < 8 {
		t.Errorf("%d departments, want at least 8", len(depts))
	}
	known := map[string]bool{}
	for _, d := range depts {
		if err := d.Validate(); err != nil && d.WebhookURL == "" {
			t.Errorf("department %s: %v", d.ID, err)
		}
		if _, err := webhook.NewSigner(d.LocalSecret); err != nil {
			t.Errorf("department %s: local secret: %v", d.ID, err)
		}
		known[d.ID] = true
	}
	if !known[dispatch.CommandCenter] {
		t.Errorf("no command center")
	}
	areas, err := Areas()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range areas {
		if err := a.Validate(); err != nil {
			t.Errorf("area %s: %v", a.ID, err)
		}
	}
	rules, err := Rules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if err := r.Validate(func(d string) bool { return known[d] }); err != nil {
			t.Errorf("rule %s: %v", r.ID, err)
		}
	}
	if _, err := dispatch.NewEngine(rules, areas, time.UTC); err != nil {
		t.Fatal(err)
	}
}

func TestCatalogSeed(t *testing.T) {
	items, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[market.Kind]bool{}
	for _, it := range items {
		if err := it.Validate(); err != nil {
			t.Errorf("item %s: %v", it.ID, err)
		}
		kinds[it.Kind] = true
	}
	for _, k := range []market.Kind{market.Goods, market.Honor, market.Charity, market.Credit} {
		if !kinds[k] {
			t.Errorf("no %s item in the catalog seed", k)
		}
	}
}
