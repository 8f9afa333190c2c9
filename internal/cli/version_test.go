package cli

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name    string
		version string
		build   *debug.BuildInfo
		want    BuildInfo
	}{
		{name: "the build's version wins", version: "v1.2.3", build: &debug.BuildInfo{Main: debug.Module{Version: "v0.9.0"}},
			want: BuildInfo{Version: "v1.2.3"}},
		{name: "go install of a module version", version: "dev", build: &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}},
			want: BuildInfo{Version: "v1.4.0"}},
		{name: "go build in a checkout: a pseudo-version and the commit", version: "dev",
			build: &debug.BuildInfo{Main: debug.Module{Version: "v1.4.1-0.20261201100000-0123abc+dirty"}, Settings: vcs},
			want:  BuildInfo{Version: "v1.4.1-0.20261201100000-0123abc+dirty", GitCommit: "0123abc", GitTreeState: "dirty"}},
		{name: "no module version", version: "dev", build: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			want: BuildInfo{Version: "dev"}},
		{name: "no build information", version: "dev", want: BuildInfo{Version: "dev"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.GoVersion, tt.want.Platform = runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH
			if got := buildInfo(tt.version, tt.build); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	info := GetBuildInfo()
	t.Run("default", func(t *testing.T) {
		r := run(t, "", "version")
		r.expect(t, 0, info.Version+" (")
		if !strings.Contains(r.stdout, info.Platform) {
			t.Errorf("no platform in %q", r.stdout)
		}
	})
	t.Run("--short", func(t *testing.T) {
		run(t, "", "version", "--short").expect(t, 0, info.Version+"\n")
	})
	for _, format := range []string{"json", "yaml"} {
		t.Run("-o "+format, func(t *testing.T) {
			r := run(t, "", "version", "-o", format)
			r.expect(t, 0, "version")
			var got BuildInfo
			unmarshal := json.Unmarshal
			if format == "yaml" {
				unmarshal = func(data []byte, v any) error { return yaml.Unmarshal(data, v) }
			}
			if err := unmarshal([]byte(r.stdout), &got); err != nil || got != info {
				t.Errorf("decoded %+v (%v), want %+v", got, err, info)
			}
		})
	}
	t.Run("bad -o", func(t *testing.T) {
		run(t, "", "version", "-o", "xml").expect(t, 1, "", `--output must be "json" or "yaml", not "xml"`)
	})
}
