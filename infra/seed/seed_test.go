package seed

import "testing"

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
