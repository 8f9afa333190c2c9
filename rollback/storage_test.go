package rollback

import (
	"fmt"
	"testing"

	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
)

// key is the storage key Helm uses for a release revision.
func key(name string, version int) string {
	return fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, version)
}

func TestRenderedTargetReturnsTheRewrittenTargetOnly(t *testing.T) {
	mem := driver.NewMemory()
	mem.SetNamespace("apps")
	for version, manifest := range map[int]string{1: "stored revision 1", 2: "stored revision 2"} {
		rel := &release.Release{Name: "app", Namespace: "apps", Version: version, Manifest: manifest, Info: &release.Info{}}
		if err := mem.Create(key("app", version), rel); err != nil {
			t.Fatal(err)
		}
	}
	rewritten := &release.Release{Name: "app", Namespace: "apps", Version: 1, Manifest: "rewritten revision 1", Info: &release.Info{}}
	d := &renderedTarget{Driver: mem, target: rewritten}

	tests := []struct {
		name    string
		key     string
		want    string
		wantErr bool
	}{
		{name: "the target revision is the rewritten copy", key: key("app", 1), want: "rewritten revision 1"},
		{name: "other revisions are as stored", key: key("app", 2), want: "stored revision 2"},
		{name: "missing revisions are errors, as from the driver", key: key("app", 7), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Get(tt.key)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Get(%s) = %v, want an error", tt.key, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rel, err := AsRelease(got)
			if err != nil || rel.Manifest != tt.want {
				t.Errorf("Get(%s) manifest = %q (%v), want %q", tt.key, rel.Manifest, err, tt.want)
			}
		})
	}

	// Helm copies what Get returns into a new revision; that must never
	// alias the stored target.
	mustRelease(t, d, key("app", 1)).Manifest = "changed by the caller"
	if rewritten.Manifest != "rewritten revision 1" {
		t.Error("Get returned the rewritten release itself, not a copy")
	}
	if stored := mustRelease(t, mem, key("app", 1)); stored.Manifest != "stored revision 1" {
		t.Errorf("the stored target changed: %q", stored.Manifest)
	}
}

func mustRelease(t *testing.T, d driver.Driver, key string) *release.Release {
	t.Helper()
	got, err := d.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := AsRelease(got)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}
