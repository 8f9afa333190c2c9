package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderPluginValidateNeedsHelm(t *testing.T) {
	cases := []struct {
		name string
		o    RenderPluginOptions
	}{
		{"not run by Helm", RenderPluginOptions{}},
		{"no HELM_DATA_HOME", RenderPluginOptions{helmBin: "helm", cliDir: "/p"}},
		{"no HELM_PLUGIN_DIR", RenderPluginOptions{helmBin: "helm", dataHome: "/d"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate(t.Context())
			if err == nil || !strings.Contains(err.Error(), "helm pvc-guard install-render-plugin") {
				t.Errorf("Validate() = %v, want the way to run it", err)
			}
		})
	}
}

// TestRenderPluginRun installs into a fresh data home and over an older
// pvc-guard-render linked to a checkout, which must stay untouched.
func TestRenderPluginRun(t *testing.T) {
	cases := []struct {
		name string
		old  func(t *testing.T, target string) (keep string)
	}{
		{"fresh data home", func(*testing.T, string) string { return "" }},
		{"replaces a linked checkout", func(t *testing.T, target string) string {
			checkout := t.TempDir()
			writeFileAt(t, filepath.Join(checkout, "plugin.yaml"), "old")
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(checkout, target); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(checkout, "plugin.yaml")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cliDir, dataHome := t.TempDir(), t.TempDir()
			writeFileAt(t, filepath.Join(cliDir, "plugins", renderPluginName, "plugin.yaml"), "name: pvc-guard-render\n")
			executable := filepath.Join(t.TempDir(), "pvc-guard")
			writeFileAt(t, executable, "binary")
			target := filepath.Join(dataHome, "plugins", renderPluginName)
			keep := tc.old(t, target)

			var out bytes.Buffer
			o := RenderPluginOptions{Streams: Streams{Out: &out}, dataHome: dataHome, cliDir: cliDir, executable: executable}
			if err := o.Run(); err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]string{"plugin.yaml": "name: pvc-guard-render\n", "bin/pvc-guard": "binary"} {
				if got, err := os.ReadFile(filepath.Join(target, name)); err != nil || string(got) != want {
					t.Errorf("%s = %q, %v; want %q", name, got, err, want)
				}
			}
			if info, err := os.Stat(filepath.Join(target, "bin", "pvc-guard")); err != nil || info.Mode().Perm() != 0o755 {
				t.Errorf("bin/pvc-guard mode: %v, %v", info, err)
			}
			if keep != "" {
				if got, err := os.ReadFile(keep); err != nil || string(got) != "old" {
					t.Errorf("the linked checkout changed: %q, %v", got, err)
				}
			}
			if entries, _ := os.ReadDir(dataHome); len(entries) != 1 {
				t.Errorf("staging left behind in %s: %v", dataHome, entries)
			}
			if !strings.Contains(out.String(), "--post-renderer "+renderPluginName) {
				t.Errorf("output does not say how to use it:\n%s", out.String())
			}
		})
	}
}

func writeFileAt(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
