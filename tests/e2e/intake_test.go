package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

func photoJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for x := range 32 {
		img.Set(x, x%24, color.RGBA{30, 160, 60, 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type reportView struct {
	ID        string
	Status    string
	Category  string
	Reporter  string
	Photos    []struct{ Key string }
	Timeline  []struct{ Status string }
	CreatedAt string
}

// TestIntakeWalkthrough is the README's curl walk-through: token → presigned upload → report → list → get.
func TestIntakeWalkthrough(t *testing.T) {
	var health map[string]string
	if st := (&client{t: t}).call("GET", "/v1/health", nil, nil, &health); st != 200 || health["status"] != "ok" {
		t.Fatalf("health = %d %v", st, health)
	}
	citizen := login(t, "e2e-citizen", []string{"citizen"}, "")
	key := citizen.uploadPhoto("image/jpeg", photoJPEG(t))

	body := map[string]any{
		"category": "street_light", "description": "路灯不亮 the street light is out",
		"location": map[string]float64{"lat": 23.3695, "lng": 103.3822}, "address": "红河大道 88号",
		"photoKeys": []string{key},
	}
	var created reportView
	if st := citizen.call("POST", "/v1/reports", body, map[string]string{"Idempotency-Key": "walk-1"}, &created); st != 201 {
		t.Fatalf("create = %d", st)
	}
	if created.Status != "submitted" || created.Category != "street_light" || len(created.Photos) != 1 {
		t.Errorf("created = %+v", created)
	}
	var replay reportView
	if st := citizen.call("POST", "/v1/reports", body, map[string]string{"Idempotency-Key": "walk-1"}, &replay); st != 201 || replay.ID != created.ID {
		t.Errorf("replay = %d %s, want the same report %s", st, replay.ID, created.ID)
	}

	var page struct {
		Items      []reportView
		NextCursor string
	}
	if st := citizen.call("GET", "/v1/me/reports?limit=10", nil, nil, &page); st != 200 || len(page.Items) != 1 || page.Items[0].ID != created.ID {
		t.Errorf("list = %d %+v", st, page)
	}
	var got reportView
	if st := citizen.call("GET", "/v1/reports/"+created.ID, nil, nil, &got); st != 200 || got.ID != created.ID || len(got.Timeline) == 0 {
		t.Errorf("get = %d %+v", st, got)
	}
	other := login(t, "e2e-other", []string{"citizen"}, "")
	if st := other.call("GET", "/v1/reports/"+created.ID, nil, nil, nil); st != 404 {
		t.Errorf("another citizen sees the report: %d", st)
	}
	if st := (&client{t: t}).call("GET", "/v1/me/reports", nil, nil, nil); st != 401 {
		t.Errorf("no token = %d, want 401 from the authorizer", st)
	}
	if st := citizen.call("GET", "/v1/nothing-here", nil, nil, nil); st != 404 {
		t.Errorf("unknown route = %d", st)
	}
}
