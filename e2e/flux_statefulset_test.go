package e2e

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/flux"
	"github.com/pvc-guard/pvc-guard/internal/testutil/gitopstest"
	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// TestFluxPatchesPinAStatefulSet is issue 11 acceptance 5 for flux-patches:
// the db chart bumped from 0.1.0 to 0.2.0 (its claim templates' helm.sh/chart
// label changes) with a smaller template size. flux-patches, against the
// real cluster, prints patches that the real kustomize applies to the
// rendered chart, as Flux's post-renderer does; the StatefulSet they make is
// the post-renderer's, as the API server compares it. Stock helm's upgrade
// is refused; the same helm with kustomize and the patches as its
// post-renderer succeeds, and keeps the live templates, the set and its
// claims.
func TestFluxPatchesPinAStatefulSet(t *testing.T) {
	for _, version := range helms {
		t.Run(string(version), func(t *testing.T) {
			t.Parallel()
			d := installDB(t, version, false, chartLabels...)
			chart := packagedChart(t, d, "0.2.0")
			values := append([]string{"--set", "persistence.storageClass=" + d.class, "--set", "persistence.size=512Mi"}, chartLabels...)
			live := maps.Clone(d.set.Spec.VolumeClaimTemplates[0].Labels)

			rendered := d.MustRun(append([]string{"template", "db", chart, "-n", d.ns}, values...)...)
			postRendered := succeeded(t, "pvc-guard render", nil, run(exec.Command(pvcGuardBinary(t), "render", "-n", d.ns), d.Env, rendered))
			out := succeeded(t, "pvc-guard flux-patches", nil, run(exec.Command(pvcGuardBinary(t), "flux-patches", "-n", d.ns), d.Env, rendered))
			block := &flux.Block{}
			if err := yaml.Unmarshal([]byte(out), block); err != nil {
				t.Fatalf("flux-patches output: %v\n%s", err, out)
			}
			postRenderer := kustomizePostRenderer(t, d, block)
			patched := succeeded(t, "the kustomize post-renderer", nil, run(exec.Command(postRenderer), d.Env, rendered))
			assertSameObjects(t, patched, postRendered, d.ns, out)

			stock := d.Run(append([]string{"upgrade", "db", chart, "-n", d.ns}, values...)...)
			if stock.Err == nil {
				t.Fatal("stock helm upgrade succeeded; the claim templates are immutable")
			}
			assertTemplatesRefused(t, d.c, stock)
			assertSameIgnoringStatus(t, "the set after the refused upgrade", d.set, d.getSet())

			if version == testcluster.Helm4 {
				postRenderer = helm4PostRendererPlugin(t, d, postRenderer)
			}
			d.MustRun(append([]string{"upgrade", "db", chart, "-n", d.ns, "--post-renderer", postRenderer}, values...)...)
			d.assertBumpedInPlace(live)
		})
	}
}

// kustomizePostRenderer writes a post-renderer for helm that does what
// Flux's does with the block: the standalone kustomize builds a
// kustomization whose only resource is the rendered stream, with the
// block's patches. It returns the script's path.
func kustomizePostRenderer(t *testing.T, d *dbRelease, block *flux.Block) string {
	t.Helper()
	if len(block.PostRenderers) != 1 {
		t.Fatalf("%d post-renderers, want one kustomize entry", len(block.PostRenderers))
	}
	dir := t.TempDir()
	kustomization, err := yaml.Marshal(map[string]any{"resources": []string{"helm-output.yaml"}, "patches": block.PostRenderers[0].Kustomize.Patches})
	if err != nil {
		t.Fatal(err)
	}
	writeOutput(t, filepath.Join(dir, "kustomization.yaml"), string(kustomization))
	script := filepath.Join(dir, "post-render.sh")
	writeOutput(t, script, "#!/bin/sh\nset -e\ncat > '"+dir+"/helm-output.yaml'\nexec '"+kustomizeBinary(t, d.c)+"' build '"+dir+"'\n")
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// helm4PostRendererPlugin installs script as a Helm 4 post-renderer
// plugin, which is all Helm 4's --post-renderer takes, and returns its name.
func helm4PostRendererPlugin(t *testing.T, d *dbRelease, script string) string {
	t.Helper()
	const name = "kustomize-flux-patches"
	dir := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeOutput(t, filepath.Join(dir, "plugin.yaml"), "apiVersion: v1\ntype: postrenderer/v1\nname: "+name+"\nversion: 0.1.0\nruntime: subprocess\n"+
		"runtimeConfig:\n  platformCommand:\n  - command: "+script+"\n")
	d.MustRun("plugin", "install", dir)
	return name
}

// assertSameObjects compares the objects of ruled kinds in two streams as
// the API server compares them on an update.
func assertSameObjects(t *testing.T, got, want, namespace, patches string) {
	t.Helper()
	objects := func(stream string) map[gitopstest.ObjectID]map[string]any {
		objs, err := gitopstest.Objects([]byte(stream), namespace, renderer.DefaultRuleSets())
		if err != nil {
			t.Fatalf("reading the objects: %v\n%s", err, stream)
		}
		return objs
	}
	gotObjects, wantObjects := objects(got), objects(want)
	if len(wantObjects) == 0 {
		t.Fatalf("the post-renderer's stream has no ruled object:\n%s", want)
	}
	if diffs := gitopstest.DiffObjects(gotObjects, wantObjects); len(diffs) > 0 {
		t.Errorf("%s, from the post-renderer's\n--- patches:\n%s\n--- kustomize:\n%s\n--- post-renderer:\n%s", strings.Join(diffs, ", "), patches, got, want)
	}
}
