package krm

import (
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// config is what one run uses once the functionConfig is applied.
type config struct {
	Namespace   string
	OnConflict  renderer.ConflictPolicy
	LiveState   []string
	Rules       []*renderer.RuleSet
	KubeVersion string
}

// Keys of the functionConfig ConfigMap's data. A ConfigMap is what kpt
// builds from `kpt fn eval --exec pvc-guard -- key=value ...`, and what a
// kustomize transformers: entry is most often written as.
const (
	keyNamespace  = "namespace"  // for items without metadata.namespace
	keyOnConflict = "onConflict" // "fail" (default) or "keep-live"
	keyLiveState  = "liveState"  // comma-separated snapshot files instead of the cluster
	keyRules      = "rules"      // comma-separated rule set files (or builtin:NAME) added to the default rules
	// keyKubeVersion is the API server version the rules assume with a
	// snapshot, as --kube-version: which StatefulSet fields are mutable
	// depends on it, and a snapshot cannot say.
	keyKubeVersion = "kubeVersion"
)

// loadConfig applies the functionConfig, a ConfigMap whose data holds the
// keys above, to the function's defaults. Unknown keys are refused, so a
// misspelt option cannot silently fall back to the cluster or to "fail".
func (f *Function) loadConfig(fc *yaml.RNode) (config, error) {
	cfg := config{Namespace: f.Namespace, OnConflict: f.OnConflict, Rules: f.Rules, KubeVersion: f.KubeVersion}
	if fc.IsNilOrEmpty() {
		return cfg, nil
	}
	if kind := fc.GetKind(); kind != "ConfigMap" {
		return cfg, fmt.Errorf("functionConfig must be a ConfigMap whose data sets %s, not a %s", configKeys, kind)
	}
	for key, value := range fc.GetDataMap() {
		switch key {
		case keyNamespace:
			cfg.Namespace = value
		case keyOnConflict:
			cfg.OnConflict = renderer.ConflictPolicy(value)
		case keyLiveState:
			cfg.LiveState = f.paths(value)
		case keyRules:
			rules, err := renderer.LoadRuleSets(f.paths(value))
			if err != nil {
				return cfg, fmt.Errorf("functionConfig data.%s: %w", keyRules, err)
			}
			cfg.Rules = rules
		case keyKubeVersion:
			if _, err := version.ParseGeneric(value); err != nil {
				return cfg, fmt.Errorf("functionConfig data.%s: %w", keyKubeVersion, err)
			}
			cfg.KubeVersion = value
		default:
			return cfg, fmt.Errorf("functionConfig data has unknown key %q; pvc-guard reads %s", key, configKeys)
		}
	}
	if cfg.KubeVersion != "" && len(cfg.LiveState) == 0 && !f.Snapshot {
		return cfg, fmt.Errorf("functionConfig data.%s is for a snapshot (data.%s, or the command line's --live-state); with a cluster the API server says its version", keyKubeVersion, keyLiveState)
	}
	switch cfg.OnConflict {
	case "", renderer.Fail, renderer.KeepLive:
		return cfg, nil
	}
	return cfg, fmt.Errorf(`functionConfig data.%s must be "fail" or "keep-live", not %q`, keyOnConflict, cfg.OnConflict)
}

const configKeys = keyNamespace + ", " + keyOnConflict + ", " + keyLiveState + ", " + keyRules + " and " + keyKubeVersion

// paths splits a comma-separated list of files, resolving relative paths
// against the function's directory.
func (f *Function) paths(list string) []string {
	var paths []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !filepath.IsAbs(p) && !strings.HasPrefix(p, renderer.BuiltinPrefix) {
			p = filepath.Join(f.Dir, p)
		}
		paths = append(paths, p)
	}
	return paths
}
