package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/dynamic"

	"github.com/pvc-guard/pvc-guard/expand"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// helmDefaultTimeout is Helm's --timeout default, which bounds each of
// --expand-volumes' waits when the user gives none.
const helmDefaultTimeout = 5 * time.Minute

// expansion is --expand-volumes for one run: the checked sets and the
// expander that changes them.
type expansion struct {
	expander *expand.Expander
	plans    []*expand.SetPlan
}

// planExpansion is steps 1 and 2: a server-side dry run of the user's own
// command through the renderer (Helm 3 and 4 both have --dry-run=server,
// which renders as the real run does, lookups included, and writes
// nothing), whose template growth conflicts name the sets to grow; then the
// checks. It returns nil when no set grows.
func (o *HelmRunOptions) planExpansion(ctx context.Context) (*expansion, error) {
	o.expandProgress("1/5 plan: helm %s --dry-run=server through the renderer, to find StatefulSets whose templates grow", o.Verb)
	conflicts, err := o.dryRunConflicts(ctx)
	if err != nil {
		return nil, err
	}
	targets, rest, err := expand.Targets(conflicts)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("--expand-volumes: the %s has conflicts that growing volumes does not resolve; nothing was changed: %w", o.Verb, &renderer.ConflictError{Conflicts: rest})
	}
	if len(targets) == 0 {
		o.expandProgress("1/5 no StatefulSet's templates grow; nothing to expand")
		return nil, nil
	}
	e, err := o.newExpander()
	if err != nil {
		return nil, err
	}
	o.expandProgress("2/5 check: claims bound, StorageClasses allow expansion, retention policy keeps claims")
	plans, err := e.Check(ctx, targets)
	if err != nil {
		return nil, err
	}
	expand.PrintPlan(o.ErrOut, plans)
	return &expansion{expander: e, plans: plans}, nil
}

// dryRunConflicts runs the dry run and reads the renderer's conflicts from
// its report. Helm fails on them (the renderer refuses the stream), so only
// a dry run that rendered nothing is an error here.
func (o *HelmRunOptions) dryRunConflicts(ctx context.Context) ([]renderer.Finding, error) {
	reportDir, err := os.MkdirTemp("", "pvc-guard-plan")
	if err != nil {
		return nil, fmt.Errorf("creating a report directory: %w", err)
	}
	defer os.RemoveAll(reportDir)
	reportFile := filepath.Join(reportDir, "report.json")
	postRenderer, err := o.postRendererFlags(ctx, reportFile)
	if err != nil {
		return nil, err
	}
	args := append(append(append([]string{o.Verb}, o.helm.pass...), "--dry-run=server"), postRenderer...)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, o.helmBin, args...)
	cmd.Stderr = &stderr // the manifests on stdout are not the user's
	helmErr := cmd.Run()
	data, err := os.ReadFile(reportFile)
	if errors.Is(err, os.ErrNotExist) {
		if helmErr == nil {
			return nil, nil // nothing to render: no set to grow
		}
		return nil, fmt.Errorf("--expand-volumes: the dry run of the %s failed before rendering; nothing was changed: %w\n%s", o.Verb, helmErr, strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		return nil, fmt.Errorf("reading the dry run's report: %w", err)
	}
	var report renderer.Report
	if err := json.Unmarshal(data, &report); err != nil {
		return nil, fmt.Errorf("reading the dry run's report: %w", err)
	}
	if helmErr != nil && len(report.Conflicts) == 0 {
		return nil, fmt.Errorf("--expand-volumes: the dry run of the %s failed; nothing was changed: %w\n%s", o.Verb, helmErr, strings.TrimSpace(stderr.String()))
	}
	return report.Conflicts, nil
}

// newExpander connects to the cluster Helm uses, as Helm.
func (o *HelmRunOptions) newExpander() (*expand.Expander, error) {
	flags := NewClusterFlags()
	fs := pflag.NewFlagSet("identity", pflag.ContinueOnError)
	flags.AddFlags(fs)
	if err := fs.Parse(o.helm.identity); err != nil {
		return nil, fmt.Errorf("reading Helm's cluster flags: %w", err)
	}
	config, err := flags.RESTConfig()
	if err != nil {
		return nil, err
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("creating a Kubernetes client for %s: %w", config.Host, err)
	}
	timeout := helmDefaultTimeout
	if value, ok := o.helm.value("timeout"); ok {
		if timeout, err = time.ParseDuration(value); err != nil {
			return nil, fmt.Errorf("--timeout %q: %w", value, err)
		}
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		return nil, fmt.Errorf("locating the current directory, where the live sets are saved: %w", err)
	}
	return &expand.Expander{Client: client, Out: o.ErrOut, BackupDir: dir, Timeout: timeout}, nil
}

func (o *HelmRunOptions) expandProgress(format string, args ...any) {
	fmt.Fprintf(o.ErrOut, "pvc-guard: expand-volumes: "+format+"\n", args...)
}

// prepare is step 3; on failure it puts back what it deleted.
func (x *expansion) prepare(ctx context.Context) error {
	if err := x.expander.Prepare(ctx, x.plans); err != nil {
		err = fmt.Errorf("--expand-volumes: %w; Helm was not run (claims already grown stay grown)", err)
		if recoverErr := x.expander.Finish(ctx, x.plans, err); recoverErr != nil {
			return fmt.Errorf("%w; %w", err, recoverErr)
		}
		return err
	}
	return nil
}

// finish is step 5; nil when no set was to be grown.
func (x *expansion) finish(ctx context.Context, helmErr error) error {
	if x == nil {
		return nil
	}
	return x.expander.Finish(ctx, x.plans, helmErr)
}
