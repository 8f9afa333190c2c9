package e2e

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// release is one `make package` run of the checkout under test, signed
// with a key made for the test and served the way GitHub serves releases.
type release struct {
	c       *testcluster.Cluster
	version string
	dist    string
	server  *releaseServer
	keyring string // verifies the .prov files in dist
}

// tarball is the path of plugin's tarball for this machine in dist.
func (r *release) tarball(plugin string) string {
	return filepath.Join(r.dist, plugin+"-"+r.version+"-"+runtime.GOOS+"-"+runtime.GOARCH+".tgz")
}

// url is where the server serves plugin's tarball.
func (r *release) url(plugin string) string {
	return r.server.URL + "/v" + r.version + "/" + filepath.Base(r.tarball(plugin))
}

// TestPluginRelease packages the plugins once (acceptance: tests build one
// platform) and installs them every way a user can: through the install
// hook from a checkout (both Helms, no Go on PATH), from tarballs, signed
// and tampered, unreachable, and updated from a git repository.
func TestPluginRelease(t *testing.T) {
	c := testcluster.Get(t)
	key, secring, pubring := signingKey(t)
	r := &release{c: c, version: pluginVersion(t, repoRoot), server: newReleaseServer(t), keyring: pubring}
	r.dist = packageRelease(t, repoRoot, "SIGN_KEY="+key, "KEYRING="+secring)
	sums, err := os.ReadFile(filepath.Join(r.dist, "SHA256SUMS"))
	if err != nil || strings.Count(string(sums), ".tgz\n") != 2 {
		t.Fatalf("SHA256SUMS: %v\n%s", err, sums)
	}
	r.server.Serve(r.version, r.dist)

	for _, tc := range []struct {
		name string
		run  func(*testing.T, *release)
	}{
		{"hook downloads the release into a checkout", testHookDownloads},
		{"hook refuses a tampered tarball", testHookRefusesTampered},
		{"hook without the release or Go", testHookWithoutReleaseOrGo},
		{"Helm 3.17 loads the plugin and the others", testOldestHelm3},
		{"tarballs from a URL and a path", testTarballs},
		{"signed tarballs verify with --keyring", testSignedTarballs},
		{"helm plugin update moves to the new release", testPluginUpdate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, r)
		})
	}
}

// testHookDownloads is acceptance 1: without Go, both Helms install the
// plugins from a fresh checkout by downloading the release of the plugin's
// version, which then works.
func testHookDownloads(t *testing.T, r *release) {
	first := freshCheckout(t)
	helm3 := installEnv(t, r.c.Helm(t, testcluster.Helm3), r.server.URL)
	helm3.MustRun("plugin", "install", first)
	assertPluginVersion(t, helm3, r.version)
	assertBinaries(t, first, "pvc-guard", "pvc-guard-rollback")

	// Render plugin first, from its own tarball; then the CLI plugin, whose
	// hook finds pvc-guard current and still fetches pvc-guard-rollback.
	second := freshCheckout(t)
	helm4 := installEnv(t, r.c.Helm(t, testcluster.Helm4), r.server.URL)
	helm4.MustRun("plugin", "install", filepath.Join(second, "plugins", "pvc-guard-render"), "--verify=false")
	assertBinaries(t, second, "pvc-guard")
	helm4.MustRun("plugin", "install", second, "--verify=false")
	assertPluginVersion(t, helm4, r.version)
	assertBinaries(t, second, "pvc-guard", "pvc-guard-rollback")
	assertRenders(t, helm4)
	for _, plugin := range []string{"pvc-guard-render", "pvc-guard"} {
		if !r.server.fetched(filepath.Base(r.tarball(plugin))) {
			t.Errorf("the hooks never downloaded %s; requests: %v", filepath.Base(r.tarball(plugin)), r.server.requests())
		}
	}
}

// testHookRefusesTampered is acceptance 2: a tarball whose sha256 is not
// the one in SHA256SUMS is refused, and bin/ stays empty.
func testHookRefusesTampered(t *testing.T, r *release) {
	tampered := t.TempDir()
	for _, name := range []string{"SHA256SUMS", filepath.Base(r.tarball("pvc-guard")), filepath.Base(r.tarball("pvc-guard-render"))} {
		if err := copyEntry(filepath.Join(r.dist, name), filepath.Join(tampered, name)); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".tgz") {
			appendBytes(t, filepath.Join(tampered, name), "tampered")
		}
	}
	server := newReleaseServer(t)
	server.Serve(r.version, tampered)

	checkout := freshCheckout(t)
	for _, install := range []struct {
		version testcluster.HelmVersion
		args    []string
	}{
		{testcluster.Helm3, []string{checkout}},
		{testcluster.Helm4, []string{filepath.Join(checkout, "plugins", "pvc-guard-render"), "--verify=false"}},
	} {
		helm := installEnv(t, r.c.Helm(t, install.version), server.URL)
		res := helm.Run(append([]string{"plugin", "install"}, install.args...)...)
		if res.Err == nil || !strings.Contains(res.Stderr, "checksum mismatch") {
			t.Errorf("%s plugin install of a tampered release: exit %v, want a checksum mismatch; stderr:\n%s", install.version, res.Err, res.Stderr)
		}
		assertNoBinaries(t, checkout)
	}
}

// testHookWithoutReleaseOrGo is acceptance 3: with the release unreachable
// and no Go, the hook names both ways out and fails, installing nothing.
func testHookWithoutReleaseOrGo(t *testing.T, r *release) {
	server := newReleaseServer(t)
	unreachable := server.URL
	server.Close()
	checkout := freshCheckout(t)
	helm := installEnv(t, r.c.Helm(t, testcluster.Helm3), unreachable)
	res := helm.Run("plugin", "install", checkout)
	if res.Err == nil {
		t.Error("helm plugin install succeeded without binaries")
	}
	for _, want := range []string{"could not download release " + r.version, "Go is not on PATH",
		"make " + unreachable + "/v" + r.version + "/ reachable", "install Go 1.26"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
		}
	}
	assertNoBinaries(t, checkout)
}

// testOldestHelm3 is issue 10 item 7: the oldest Helm 3 pvc-guard supports
// reads plugin.yaml strictly; it installs the plugin, runs it, and still
// loads the user's other plugins.
func testOldestHelm3(t *testing.T, r *release) {
	checkout := freshCheckout(t)
	helm := installEnv(t, r.c.Helm(t, oldestHelm3), r.server.URL)
	helm.MustRun("plugin", "install", writePlugin(t, "hello"))
	helm.MustRun("plugin", "install", checkout)
	assertPluginVersion(t, helm, r.version)
	list := helm.MustRun("plugin", "list")
	for _, name := range []string{"pvc-guard", "hello"} {
		if !strings.Contains(list, name) {
			t.Errorf("%s plugin list lacks %s:\n%s", oldestHelm3, name, list)
		}
	}
	if out := helm.MustRun("hello"); !strings.Contains(out, "hello") {
		t.Errorf("%s hello = %q", oldestHelm3, out)
	}
}

// oldestHelm3 is the oldest Helm 3 the README promises (cluster/build.sh).
const oldestHelm3 testcluster.HelmVersion = "helm3.17"

// testTarballs: the packaged tarballs install into fresh plugin
// directories: Helm 3 from a URL (it installs archives only from http(s)),
// Helm 4 the render plugin from the path and the CLI plugin from the URL;
// the CLI tarball carries pvc-guard-rollback, which `helm pvc-guard
// rollback` runs from the plugin's bin/.
func testTarballs(t *testing.T, r *release) {
	helm3 := r.c.Helm(t, testcluster.Helm3)
	helm3.MustRun("plugin", "install", r.url("pvc-guard"))
	helm4 := r.c.Helm(t, testcluster.Helm4)
	helm4.MustRun("plugin", "install", r.url("pvc-guard"), "--verify=false")
	helm4.MustRun("plugin", "install", r.tarball("pvc-guard-render"), "--verify=false")
	for _, helm := range []*testcluster.Helm{helm3, helm4} {
		assertPluginVersion(t, helm, r.version)
	}
	assertRenders(t, helm4)

	// Helm 4's render plugin from the CLI plugin alone, with no download;
	// Helm 3 is refused, since that plugin would make it load none.
	fromCLI := r.c.Helm(t, testcluster.Helm4)
	fromCLI.MustRun("plugin", "install", r.url("pvc-guard"), "--verify=false")
	fromCLI.MustRun("pvc-guard", "install-render-plugin")
	assertRenders(t, fromCLI)
	fromCLI.MustRun("pvc-guard", "install-render-plugin") // replaces it
	assertRenders(t, fromCLI)
	res := helm3.Run("pvc-guard", "install-render-plugin")
	if res.Err == nil || !strings.Contains(res.Stderr, "is Helm 3") {
		t.Errorf("helm3 pvc-guard install-render-plugin: exit %v, want a refusal; stderr:\n%s", res.Err, res.Stderr)
	}
	if list := helm3.MustRun("plugin", "list"); !strings.Contains(list, "pvc-guard") {
		t.Errorf("helm3 plugin list after the refusal:\n%s", list)
	}
}

// testSignedTarballs is acceptance 4: Helm 4 verifies the signed tarballs
// with the release key, from a path and from a URL (the .prov beside it),
// and refuses a tampered one.
func testSignedTarballs(t *testing.T, r *release) {
	helm4 := r.c.Helm(t, testcluster.Helm4)
	for _, source := range []string{r.tarball("pvc-guard-render"), r.url("pvc-guard")} {
		if out := helm4.MustRun("plugin", "install", source, "--keyring", r.keyring); !strings.Contains(out, "Plugin Hash Verified") {
			t.Errorf("helm4 plugin install %s --keyring: no verification reported:\n%s", source, out)
		}
	}
	assertPluginVersion(t, helm4, r.version)
	assertRenders(t, helm4)

	tampered := filepath.Join(t.TempDir(), filepath.Base(r.tarball("pvc-guard-render")))
	for _, suffix := range []string{"", ".prov"} {
		if err := copyEntry(r.tarball("pvc-guard-render")+suffix, tampered+suffix); err != nil {
			t.Fatal(err)
		}
	}
	appendBytes(t, tampered, "tampered")
	res := r.c.Helm(t, testcluster.Helm4).Run("plugin", "install", tampered, "--keyring", r.keyring)
	if res.Err == nil || !strings.Contains(res.Stderr, "verification failed") {
		t.Errorf("helm4 plugin install of a tampered signed tarball: exit %v, want a verification failure; stderr:\n%s", res.Err, res.Stderr)
	}
}

// testPluginUpdate is acceptance 5: a plugin installed from a git
// repository moves, with `helm plugin update`, to the newer release its
// repository now names, binaries included.
func testPluginUpdate(t *testing.T, r *release) {
	repo := freshCheckout(t)
	helm3 := installEnv(t, r.c.Helm(t, testcluster.Helm3), r.server.URL)
	helm3.MustRun("plugin", "install", "file://"+repo)
	helm4 := installEnv(t, r.c.Helm(t, testcluster.Helm4), r.server.URL)
	helm4.MustRun("plugin", "install", "file://"+repo, "--verify=false")
	for _, helm := range []*testcluster.Helm{helm3, helm4} {
		assertPluginVersion(t, helm, r.version)
	}

	const next = "99.0.0"
	setPluginVersion(t, repo, next)
	commitAll(t, repo, "release "+next)
	r.server.Serve(next, packageRelease(t, repo))
	for _, helm := range []*testcluster.Helm{helm3, helm4} {
		helm.MustRun("plugin", "update", "pvc-guard")
		assertPluginVersion(t, helm, next)
	}
}

// TestRenderPluginFromCheckoutBuildsFromSource is issue 10 item 8: the
// render plugin installed from a checkout (a symbolic link, bin/ missing)
// finds the checkout's source through its scripts/ symlink and builds.
func TestRenderPluginFromCheckoutBuildsFromSource(t *testing.T) {
	t.Parallel()
	c := testcluster.Get(t)
	checkout := freshCheckout(t)
	helm4 := c.Helm(t, testcluster.Helm4)
	helm4.Env = append(helm4.Env, "PVC_GUARD_RELEASE_URL=none")
	helm4.MustRun("plugin", "install", filepath.Join(checkout, "plugins", "pvc-guard-render"))
	assertBinaries(t, checkout, "pvc-guard")
	assertRenders(t, helm4)
}

// assertPluginVersion checks that both binaries of the CLI plugin report
// version, through Helm.
func assertPluginVersion(t *testing.T, helm *testcluster.Helm, version string) {
	t.Helper()
	name := filepath.Base(helm.Bin)
	if got := strings.TrimSpace(helm.MustRun("pvc-guard", "version")); !strings.Contains(got, "v"+version) {
		t.Errorf("%s pvc-guard version = %q, want v%s", name, got, version)
	}
	if got := strings.TrimSpace(helm.MustRun("pvc-guard", "rollback", "--version")); !strings.HasPrefix(got, "pvc-guard-rollback ") || !strings.Contains(got, "v"+version) {
		t.Errorf("%s pvc-guard rollback --version = %q, want pvc-guard-rollback v%s", name, got, version)
	}
}

// assertRenders runs helm4 template through the pvc-guard-render plugin
// against a snapshot: the live volumeName comes back.
func assertRenders(t *testing.T, helm4 *testcluster.Helm) {
	t.Helper()
	live := filepath.Join(t.TempDir(), "live.yaml")
	if err := os.WriteFile(live, []byte(boundClaimSnapshot), 0o600); err != nil {
		t.Fatal(err)
	}
	out := helm4.MustRun("template", "app", appChart, "--namespace", "apps",
		"--post-renderer", "pvc-guard-render", "--post-renderer-args=--namespace=apps", "--post-renderer-args=--live-state="+live)
	if !strings.Contains(out, "volumeName: pv-snapshot") {
		t.Errorf("helm4 template through pvc-guard-render did not preserve volumeName:\n%s", out)
	}
}

func assertBinaries(t *testing.T, checkout string, names ...string) {
	t.Helper()
	for _, name := range names {
		if info, err := os.Stat(filepath.Join(checkout, "bin", name)); err != nil || info.Mode()&0o111 == 0 {
			t.Errorf("bin/%s is not an executable after the install: %v", name, err)
		}
	}
}

// assertNoBinaries checks that bin/ holds nothing, not even a partial file.
func assertNoBinaries(t *testing.T, checkout string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(checkout, "bin"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("bin/%s was left behind", e.Name())
	}
}

func appendBytes(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
