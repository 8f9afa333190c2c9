package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// freshCheckout copies the working tree's files (tracked and untracked but
// not ignored, so no bin/ and no dist/) into a new git repository and
// returns it: what `git clone` of this change would give a user, including
// the dangling plugins/pvc-guard-render/bin symlink.
func freshCheckout(t *testing.T) string {
	t.Helper()
	files := strings.Split(strings.TrimSuffix(gitOut(t, repoRoot, "ls-files", "-z", "--cached", "--others", "--exclude-standard"), "\x00"), "\x00")
	dir := filepath.Join(t.TempDir(), "pvc-guard")
	for _, name := range files {
		if err := copyEntry(filepath.Join(repoRoot, name), filepath.Join(dir, name)); err != nil {
			t.Fatalf("copying the checkout: %v", err)
		}
	}
	gitOut(t, dir, "init", "--quiet", "--initial-branch=main")
	commitAll(t, dir, "checkout under test")
	return dir
}

// copyEntry copies one file or symbolic link, keeping its mode. A file the
// index lists but the working tree has deleted is skipped.
func copyEntry(src, dst string) error {
	info, err := os.Lstat(src)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if info.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, dst)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// gitOut runs git in dir with a fixed identity and returns its output.
func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=e2e", "GIT_AUTHOR_EMAIL=e2e@example.com",
		"GIT_COMMITTER_NAME=e2e", "GIT_COMMITTER_EMAIL=e2e@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, exitStderr(err))
	}
	return string(out)
}

func commitAll(t *testing.T, dir, message string) {
	t.Helper()
	gitOut(t, dir, "add", "--all")
	gitOut(t, dir, "commit", "--quiet", "--message", message)
}

func exitStderr(err error) []byte {
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.Stderr
	}
	return nil
}

// setPluginVersion writes version into both plugins' plugin.yaml in
// checkout, as a release bump does.
func setPluginVersion(t *testing.T, checkout, version string) {
	t.Helper()
	for _, name := range []string{"plugin.yaml", filepath.Join("plugins", "pvc-guard-render", "plugin.yaml")} {
		path := filepath.Join(checkout, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for line := range strings.SplitSeq(string(data), "\n") {
			if strings.HasPrefix(line, "version: ") {
				line = "version: " + version
			}
			lines = append(lines, line)
		}
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pluginVersion is the version in checkout's plugin.yaml.
func pluginVersion(t *testing.T, checkout string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(checkout, "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "version: "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no version in %s/plugin.yaml", checkout)
	return ""
}

// packageRelease runs checkout's `make package` script for this machine's
// platform into a new directory and returns it. extraEnv is added to the
// environment (the signing key, say).
func packageRelease(t *testing.T, checkout string, extraEnv ...string) string {
	t.Helper()
	dist := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "sh", filepath.Join(checkout, "scripts", "package.sh"))
	cmd.Env = append(append(os.Environ(), "DIST="+dist, "PLATFORMS="+runtime.GOOS+"/"+runtime.GOARCH), extraEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("packaging %s: %v\n%s", checkout, err, out)
	}
	return dist
}

// releaseServer serves release directories the way GitHub releases lay
// them out: /vVERSION/FILE. Serve adds (or replaces) a version.
type releaseServer struct {
	*httptest.Server
	mu       sync.Mutex
	releases map[string]string // "v0.1.0" -> directory
	paths    []string          // every request, in order
}

func newReleaseServer(t *testing.T) *releaseServer {
	t.Helper()
	s := &releaseServer{releases: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tag, file, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		s.mu.Lock()
		dir, ok := s.releases[tag]
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
		if !ok || strings.Contains(file, "/") {
			http.NotFound(w, r)
			return
		}
		// Helm 3 installs an archive from a URL only when its HEAD says gzip.
		if strings.HasSuffix(file, ".tgz") {
			w.Header().Set("Content-Type", "application/gzip")
		}
		http.ServeFile(w, r, filepath.Join(dir, file))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *releaseServer) Serve(version, dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releases["v"+version] = dir
}

func (s *releaseServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.paths)
}

// fetched reports whether a file whose name starts with prefix was asked for.
func (s *releaseServer) fetched(prefix string) bool {
	return slices.ContainsFunc(s.requests(), func(p string) bool { return strings.HasPrefix(path.Base(p), prefix) })
}

// installEnv is a Helm for the install step: the release URL set, and no Go
// on PATH, as on most machines Helm users have (the directories holding a
// go executable are dropped from PATH).
func installEnv(t *testing.T, h *testcluster.Helm, releaseURL string) *testcluster.Helm {
	t.Helper()
	env := make([]string, 0, len(h.Env)+1)
	for _, kv := range h.Env {
		if value, ok := strings.CutPrefix(kv, "PATH="); ok {
			var kept []string
			for _, dir := range filepath.SplitList(value) {
				if _, err := os.Stat(filepath.Join(dir, "go")); err != nil {
					kept = append(kept, dir)
				}
			}
			kv = "PATH=" + strings.Join(kept, string(os.PathListSeparator))
		}
		env = append(env, kv)
	}
	env = append(env, "PVC_GUARD_RELEASE_URL="+releaseURL)
	cmd := exec.CommandContext(t.Context(), "sh", "-c", "command -v go")
	cmd.Env = env
	if out, err := cmd.Output(); err == nil {
		t.Fatalf("go is still on the install step's PATH: %s", out)
	}
	withoutGo := *h
	withoutGo.Env = env
	return &withoutGo
}

// signingKey makes an OpenPGP key for the test: secring holds the private
// key (what `make package SIGN_KEY=name KEYRING=secring` signs with),
// pubring the public one (what helm plugin install --keyring verifies
// with).
func signingKey(t *testing.T) (name, secring, pubring string) {
	t.Helper()
	name = "pvc-guard e2e"
	entity, err := openpgp.NewEntity(name, "test release key", "e2e@example.com", &packet.Config{RSABits: 2048})
	if err != nil {
		t.Fatalf("making a signing key: %v", err)
	}
	dir := t.TempDir()
	secring, pubring = filepath.Join(dir, "secring.gpg"), filepath.Join(dir, "pubring.gpg")
	var private, public bytes.Buffer
	if err := entity.SerializePrivate(&private, nil); err != nil {
		t.Fatal(err)
	}
	if err := entity.Serialize(&public); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secring, private.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubring, public.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name, secring, pubring
}
