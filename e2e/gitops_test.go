package e2e

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/postrenderer"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/flux"
	"github.com/pvc-guard/pvc-guard/internal/testutil/gitopstest"
	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// The integrations' examples, which these tests run as they are.
const (
	kustomizeExample = "../examples/kustomize"
	argoCDExample    = "../examples/argocd"
	fluxExample      = "../examples/flux"
)

// TestKustomizeFunctionMatchesPostRenderer is acceptance 1 of the GitOps
// issue: kustomize running examples/kustomize's transformers: entry (pvc-guard
// as an exec KRM function) builds the claims the post-renderer makes of the
// same rendered chart, from a live-state file and from the real cluster.
func TestKustomizeFunctionMatchesPostRenderer(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	rendered := h.helm.MustRun("template", h.release, appChart, "--namespace", h.ns)
	snapshot := filepath.Join(t.TempDir(), "live.yaml")
	kubectl := filepath.Join(h.c.KubeBinDir, "kubectl")
	writeOutput(t, snapshot, succeeded(t, "kubectl", nil, run(exec.Command(kubectl, "get", "pvc,storageclass", "-A", "-o", "yaml"), h.helm.Env, "")))

	cases := []struct {
		name       string
		config     map[string]string // the functionConfig's data
		kubeconfig string            // what the function and the post-renderer may reach
		renderArgs []string
	}{
		{"against the cluster", map[string]string{"onConflict": "fail"}, h.c.Kubeconfig, nil},
		{"from a live-state file", map[string]string{"liveState": snapshot}, unreachableKubeconfig(t), []string{"--live-state", snapshot}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := withEnv(h.helm.Env, "KUBECONFIG="+tc.kubeconfig)
			dir := kustomization(t, rendered, h.ns, tc.config)
			built := succeeded(t, "kustomize", nil, run(exec.Command(kustomizeBinary(t, h.c), "build", "--enable-alpha-plugins", "--enable-exec", dir), toolsOnPath(t, env), ""))
			postRendered := succeeded(t, "pvc-guard", nil, run(exec.Command(pvcGuardBinary(t), append([]string{"render", "-n", h.ns}, tc.renderArgs...)...), env, rendered))
			assertSameClaims(t, built, postRendered, h.ns)
			assertVolumeName(t, built, h)
		})
	}
}

// TestKubectlKustomizeSkipsExecFunctions pins down why the examples ask for
// kustomize itself: kubectl kustomize has no --enable-exec, and with
// --enable-alpha-plugins alone it builds without running the function.
func TestKubectlKustomizeSkipsExecFunctions(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	rendered := h.helm.MustRun("template", h.release, appChart, "--namespace", h.ns)
	dir := kustomization(t, rendered, h.ns, nil)
	kubectl := filepath.Join(h.c.KubeBinDir, "kubectl")
	env := toolsOnPath(t, h.helm.Env)
	if r := run(exec.Command(kubectl, "kustomize", "--enable-alpha-plugins", "--enable-exec", dir), env, ""); r.Err == nil {
		t.Errorf("kubectl kustomize accepts --enable-exec now; the examples' advice is out of date")
	}
	built := succeeded(t, "kubectl kustomize", nil, run(exec.Command(kubectl, "kustomize", "--enable-alpha-plugins", dir), env, ""))
	if strings.Contains(built, "volumeName:") {
		t.Errorf("kubectl kustomize ran the exec function; the examples' advice is out of date:\n%s", built)
	}
}

// TestKustomizeFunctionConflictFailsTheBuild: a conflict stops kustomize,
// which shows the function's error.
func TestKustomizeFunctionConflictFailsTheBuild(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	rendered := h.helm.MustRun("template", h.release, appChart, "--namespace", h.ns, "--set", "claim.storageClassName=fast")
	dir := kustomization(t, rendered, h.ns, nil)
	r := run(exec.Command(kustomizeBinary(t, h.c), "build", "--enable-alpha-plugins", "--enable-exec", dir), toolsOnPath(t, h.helm.Env), "")
	if r.Err == nil || !strings.Contains(r.Stderr, `spec.storageClassName: chart wants "fast", live is "manual"`) {
		t.Errorf("kustomize build: want it refused with the conflict, got %v\n%s", r.Err, r.Stderr)
	}
	if r.Stdout != "" {
		t.Errorf("kustomize printed manifests despite the conflict:\n%s", r.Stdout)
	}
}

// TestFunctionErrorsAreResults is acceptance 4: a ResourceList the function
// cannot process comes back as a ResourceList with an error result and
// nothing else on stdout, and the exit status is not zero.
func TestFunctionErrorsAreResults(t *testing.T) {
	const header = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
	cases := []struct {
		name, items, want string
	}{
		{"invalid YAML", "items:\n- {apiVersion: v1, kind: PersistentVolumeClaim\n", "invalid ResourceList"},
		{"an item that is not an object", "items:\n- 42\n", "invalid ResourceList"},
		{"an item without kind", "items:\n- {apiVersion: v1, metadata: {name: data}}\n", "item 0 of the ResourceList has no kind"},
		{"a claim without name", "items:\n- {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {namespace: apps}}\n", "PersistentVolumeClaim without metadata.name"},
		{"an unknown option", "items: []\nfunctionConfig: {apiVersion: v1, kind: ConfigMap, data: {namespaces: apps}}\n", `unknown key "namespaces"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := withEnv(os.Environ(), "KUBECONFIG="+unreachableKubeconfig(t))
			r := run(exec.Command(pvcGuardBinary(t)), env, header+tc.items)
			if r.Err == nil {
				t.Errorf("exit status 0, want non-zero")
			}
			var list struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Results    []struct {
					Message  string `json:"message"`
					Severity string `json:"severity"`
				} `json:"results"`
			}
			if documents(t, r.Stdout) != 1 {
				t.Errorf("stdout must be one ResourceList and nothing else:\n%s", r.Stdout)
			}
			if err := yaml.Unmarshal([]byte(r.Stdout), &list); err != nil || list.Kind != "ResourceList" || list.APIVersion != "config.kubernetes.io/v1" {
				t.Errorf("stdout is not a ResourceList (%v):\n%s", err, r.Stdout)
			}
			if len(list.Results) == 0 || list.Results[0].Severity != "error" || !strings.Contains(list.Results[0].Message, tc.want) {
				t.Errorf("want an error result saying %q, got:\n%s", tc.want, r.Stdout)
			}
		})
	}
}

// TestFluxPatchesMakeTheUpgradeSucceed is acceptance 3: where Helm's SDK
// upgrade (as Flux's helm-controller runs it) is refused because the chart
// drops the claim's storage class, the same upgrade with a kustomize
// post-renderer made of flux-patches' output succeeds; and kustomize applying
// the patches, from the rendered stream or from the release, yields the
// post-renderer's claims.
func TestFluxPatchesMakeTheUpgradeSucceed(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	rendered := h.helm.MustRun("template", h.release, appChart, "--namespace", h.ns, "--set", "claim.storageClassName=")
	postRendered := succeeded(t, "pvc-guard", nil, run(exec.Command(pvcGuardBinary(t), "render", "-n", h.ns), h.helm.Env, rendered))

	blocks := map[string]*flux.Block{}
	for source, args := range map[string][]string{"stream": nil, "release": {"--release", h.release}} {
		cmd := exec.Command(pvcGuardBinary(t), append([]string{"flux-patches", "-n", h.ns}, args...)...)
		out := succeeded(t, "pvc-guard flux-patches", args, run(cmd, h.helm.Env, rendered))
		blocks[source] = &flux.Block{}
		if err := yaml.Unmarshal([]byte(out), blocks[source]); err != nil {
			t.Fatalf("flux-patches output: %v\n%s", err, out)
		}
		patched, err := gitopstest.PostRenderer{Block: blocks[source]}.Run(bytes.NewBufferString(rendered))
		if err != nil {
			t.Fatalf("kustomize with the patches from the %s: %v", source, err)
		}
		assertSameClaims(t, patched.String(), postRendered, h.ns)
	}

	if err := sdkUpgrade(t, h, nil); err == nil || !strings.Contains(err.Error(), immutableMessage) {
		t.Fatalf("plain SDK upgrade: want %q, got %v", immutableMessage, err)
	}
	if err := sdkUpgrade(t, h, gitopstest.PostRenderer{Block: blocks["release"]}); err != nil {
		t.Fatalf("SDK upgrade with the Flux patches: %v", err)
	}
	assertUnchanged(t, h.c.Client, h.claim)
	if class := h.liveClaim().Spec.StorageClassName; class == nil || *class != "manual" {
		t.Errorf("storage class after the upgrade = %v, want manual", class)
	}
}

// TestFluxExampleKeepsPatchesCurrent runs examples/flux/update-patches.sh
// both ways (from the installed release, and from helm template) and builds
// the example's kustomization: the HelmRelease Flux would apply carries the
// postRenderers flux-patches prints, pinning the live volume.
func TestFluxExampleKeepsPatchesCurrent(t *testing.T) {
	h := newHistory(t, historyOptions{helm: testcluster.Helm3})
	want := succeeded(t, "pvc-guard flux-patches", nil, run(exec.Command(pvcGuardBinary(t), "flux-patches", "--release", h.release, "-n", h.ns), h.helm.Env, ""))
	chart, err := filepath.Abs(appChart)
	if err != nil {
		t.Fatal(err)
	}
	env := withEnv(h.helm.Env, "PATH="+tools(t, map[string]string{"helm": h.helm.Bin, "pvc-guard": pvcGuardBinary(t)})+":/usr/bin:/bin")
	for name, args := range map[string][]string{"from the release": nil, "from helm template": {chart, "--set", "claim.storageClassName=manual"}} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, file := range []string{"kustomization.yaml", "pvc-guard-patch.yaml", "update-patches.sh"} {
				writeOutput(t, filepath.Join(dir, file), readExample(t, fluxExample, file))
			}
			release := strings.NewReplacer("name: grafana\n", "name: "+h.release+"\n", "namespace: monitoring\n", "namespace: "+h.ns+"\n")
			writeOutput(t, filepath.Join(dir, "helmrelease.yaml"), release.Replace(readExample(t, fluxExample, "helmrelease.yaml")))
			cmd := exec.Command("sh", append([]string{"update-patches.sh", h.release, h.ns}, args...)...)
			cmd.Dir = dir
			succeeded(t, "update-patches.sh", args, run(cmd, env, ""))

			built, err := gitopstest.Build(dir)
			if err != nil {
				t.Fatalf("building the example: %v", err)
			}
			var helmRelease struct {
				Spec flux.Block `json:"spec"`
			}
			if err := yaml.Unmarshal(built, &helmRelease); err != nil {
				t.Fatal(err)
			}
			got, _ := yaml.Marshal(helmRelease.Spec)
			if string(got) != want {
				t.Errorf("HelmRelease postRenderers:\n%s\nwant flux-patches' output:\n%s", got, want)
			}
			if !strings.Contains(want, "volumeName: "+h.claim.Spec.VolumeName) {
				t.Errorf("the patches do not pin the live volume:\n%s", want)
			}
		})
	}
}

// sdkUpgrade upgrades the release as Flux's helm-controller does: Helm's
// SDK, the chart with the values that drop the storage class, a
// post-renderer (or none) and the field manager helm-controller uses.
func sdkUpgrade(t *testing.T, h *history, post postrenderer.PostRenderer) error {
	t.Helper()
	kube.ManagedFieldsManager = "helm-controller"
	settings := cli.New()
	settings.KubeConfig = h.c.Kubeconfig
	settings.SetNamespace(h.ns)
	cfg := action.NewConfiguration()
	cfg.SetLogger(slog.DiscardHandler) // the refusal is the expected outcome, not news
	if err := cfg.Init(settings.RESTClientGetter(), h.ns, "secret"); err != nil {
		t.Fatalf("initialising Helm: %v", err)
	}
	chart, err := loader.Load(appChart)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	upgrade := action.NewUpgrade(cfg)
	upgrade.Namespace = h.ns
	upgrade.WaitStrategy = kube.HookOnlyStrategy
	upgrade.PostRenderer = post
	_, err = upgrade.RunWithContext(t.Context(), h.release, chart, map[string]any{"claim": map[string]any{"storageClassName": ""}})
	return err
}

// kustomization writes examples/kustomize with the rendered chart as its
// resources, the test's namespace, and data as the functionConfig's data.
func kustomization(t *testing.T, rendered, namespace string, data map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	k := strings.Replace(readExample(t, kustomizeExample, "kustomization.yaml"), "namespace: apps", "namespace: "+namespace, 1)
	fn, err := kyaml.Parse(readExample(t, kustomizeExample, "pvc-guard.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if data != nil {
		fn.SetDataMap(data)
	}
	writeOutput(t, filepath.Join(dir, "kustomization.yaml"), k)
	writeOutput(t, filepath.Join(dir, "pvc-guard.yaml"), fn.MustString())
	writeOutput(t, filepath.Join(dir, "app.yaml"), rendered)
	return dir
}

// kustomizeBinary is the standalone kustomize: $PVC_GUARD_KUSTOMIZE, else
// the cluster's bin directory. kubectl kustomize cannot run exec functions.
func kustomizeBinary(t *testing.T, c *testcluster.Cluster) string {
	t.Helper()
	path := os.Getenv("PVC_GUARD_KUSTOMIZE")
	if path == "" {
		path = filepath.Join(c.BinDir, "kustomize")
	}
	if _, err := os.Stat(path); err != nil {
		const hint = "kustomize 5 is missing: GOBIN=DIR go install sigs.k8s.io/kustomize/kustomize/v5@v5.7.1, then set PVC_GUARD_KUSTOMIZE=DIR/kustomize"
		if os.Getenv(testcluster.EnvE2E) == "require" {
			t.Fatal(hint)
		}
		t.Skip(hint)
	}
	return path
}

// toolsOnPath puts pvc-guard first on env's PATH under its own name, as the
// examples call it.
func toolsOnPath(t *testing.T, env []string) []string {
	t.Helper()
	dir := tools(t, map[string]string{"pvc-guard": pvcGuardBinary(t)})
	return withEnv(env, "PATH="+dir+string(os.PathListSeparator)+envValueOf(env, "PATH"))
}

// tools makes a directory of symbolic links: name -> program.
func tools(t *testing.T, programs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, program := range programs {
		if err := os.Symlink(program, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// run runs cmd with env and stdin.
func run(cmd *exec.Cmd, env []string, stdin string) testcluster.Result {
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	return runCommand(cmd)
}

// withEnv returns env with each NAME=value of set replacing NAME's value.
func withEnv(env []string, set ...string) []string {
	out := slices.Clone(env)
	for _, kv := range set {
		name, _, _ := strings.Cut(kv, "=")
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		out = append(out, kv)
	}
	return out
}

func envValueOf(env []string, name string) string {
	for _, e := range env {
		if value, ok := strings.CutPrefix(e, name+"="); ok {
			return value
		}
	}
	return ""
}

func assertSameClaims(t *testing.T, got, want, namespace string) {
	t.Helper()
	gotClaims, err := gitopstest.Claims([]byte(got), namespace)
	if err != nil {
		t.Fatalf("reading claims: %v\n%s", err, got)
	}
	wantClaims, err := gitopstest.Claims([]byte(want), namespace)
	if err != nil {
		t.Fatalf("reading the post-renderer's claims: %v\n%s", err, want)
	}
	if len(wantClaims) == 0 || !gitopstest.SameClaims(gotClaims, wantClaims) {
		t.Errorf("claims differ from the post-renderer's\n--- got:\n%s\n--- post-renderer:\n%s", got, want)
	}
}

// assertVolumeName checks that the stream's claim carries the live volume.
func assertVolumeName(t *testing.T, stream string, h *history) {
	t.Helper()
	claims, err := gitopstest.Claims([]byte(stream), h.ns)
	if err != nil {
		t.Fatal(err)
	}
	claim := claims[renderer.ObjectKey{Namespace: h.ns, Name: h.claimName()}]
	if claim == nil || claim.Spec.VolumeName != h.claim.Spec.VolumeName {
		t.Errorf("claim %s lacks volumeName %s:\n%s", h.claimName(), h.claim.Spec.VolumeName, stream)
	}
}

// documents counts the YAML documents of a stream.
func documents(t *testing.T, stream string) int {
	t.Helper()
	n := 0
	for decoder := kyaml.NewDecoder(strings.NewReader(stream)); ; n++ {
		var doc kyaml.Node
		if err := decoder.Decode(&doc); err == io.EOF {
			return n
		} else if err != nil {
			t.Fatalf("invalid YAML: %v\n%s", err, stream)
		}
	}
}

func writeOutput(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
