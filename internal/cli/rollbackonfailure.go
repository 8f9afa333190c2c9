package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// failureUndo is --atomic/--rollback-on-failure done by pvc-guard: what
// Helm's Upgrade.failRelease and Install.failRelease do (helm v3.22.0 and
// v4.3.1 pkg/action), with pvc-guard rollback in place of Helm's rollback,
// which would replay the stored manifest without the post-renderer.
type failureUndo struct {
	o       *HelmRunOptions
	release string
	// before is the release's latest revision before Helm ran; 0 when the
	// release did not exist.
	before int
	// impliedWait are the flags added to Helm's command line for the wait
	// --atomic implies, and waitStrategy the rollback's wait.
	impliedWait  []string
	waitStrategy string
}

// revisionInfo is one entry of `helm history -o json`.
type revisionInfo struct {
	Revision    int    `json:"revision"`
	Status      string `json:"status"`
	Description string `json:"description"`
}

// prepareUndo records the release's latest revision and works out the wait
// Helm's --atomic would add: Helm 3 sets --wait; Helm 4 waits with its
// watcher unless --wait names another strategy.
func (o *HelmRunOptions) prepareUndo(ctx context.Context) (*failureUndo, error) {
	u := &failureUndo{o: o, release: o.helm.positional[0]}
	history, err := u.history(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the history of %s, which --atomic needs to undo a failure: %w", u.release, err)
	}
	if len(history) > 0 {
		u.before = history[len(history)-1].Revision
	}
	switch o.major {
	case "v3":
		u.impliedWait, u.waitStrategy = []string{"--wait"}, "legacy"
	case "v4":
		u.waitStrategy, _ = o.helm.value("wait")
		switch u.waitStrategy {
		case "", "hookOnly", "false":
			u.impliedWait, u.waitStrategy = []string{"--wait=watcher"}, "watcher"
		case "true":
			u.waitStrategy = "watcher"
		}
	}
	return u, nil
}

// history is the release's revisions, oldest first; none when the release
// does not exist.
func (u *failureUndo) history(ctx context.Context) ([]revisionInfo, error) {
	args := append([]string{"history", u.release, "--max", "1000000", "-o", "json"}, u.o.helm.identity...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, u.o.helmBin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(stderr.String(), "release: not found") {
			return nil, nil
		}
		return nil, fmt.Errorf("%s %s: %w: %s", u.o.helmBin, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	var history []revisionInfo
	if err := json.Unmarshal(stdout.Bytes(), &history); err != nil {
		return nil, fmt.Errorf("reading helm history: %w", err)
	}
	slices.SortFunc(history, func(a, b revisionInfo) int { return a.Revision - b.Revision })
	return history, nil
}

// run undoes this run's failure, when it recorded one, and returns the
// error to exit with: Helm's, with what was done about it.
func (u *failureUndo) run(ctx context.Context, helmErr error) error {
	history, err := u.history(ctx)
	if err != nil {
		return fmt.Errorf("%w; pvc-guard could not read the release history to undo it (--atomic): %w", helmErr, err)
	}
	if len(history) == 0 || history[len(history)-1].Revision <= u.before || history[len(history)-1].Status != "failed" {
		// Helm refused before recording a revision (say, another
		// operation in progress): there is nothing of this run to undo.
		return fmt.Errorf("%w; Helm recorded no failed revision of %s, so there is nothing to roll back", helmErr, u.release)
	}
	failed := history[len(history)-1].Revision
	if u.o.Verb == "install" || u.before == 0 {
		return u.uninstall(ctx, helmErr, failed)
	}
	target := 0
	for _, rev := range history {
		if rev.Status == "deployed" || rev.Status == "superseded" {
			target = rev.Revision
		}
	}
	if target == 0 {
		return fmt.Errorf("%w; revision %d failed and %s has no deployed or superseded revision to roll back to", helmErr, failed, u.release)
	}
	fmt.Fprintf(u.o.ErrOut, "pvc-guard: revision %d of %s failed; rolling back to revision %d with pvc-guard rollback (--atomic)\n", failed, u.release, target)
	if err := u.rollBack(target); err != nil {
		return u.rollbackFailed(ctx, helmErr, failed, target, err)
	}
	return fmt.Errorf("release %s failed, and has been rolled back to revision %d by pvc-guard rollback due to --atomic being set: %w", u.release, target, helmErr)
}

// rollBack runs pvc-guard rollback with the options Helm's own rollback on
// failure takes from the upgrade.
func (u *failureUndo) rollBack(target int) error {
	args := append([]string{u.release, strconv.Itoa(target), "--wait=" + u.waitStrategy}, u.o.helm.identity...)
	for _, flag := range []string{"wait-for-jobs", "no-hooks", "force-replace", "force-conflicts"} {
		if u.o.helm.isTrue(flag) {
			args = append(args, "--"+flag)
		}
	}
	if u.o.helm.isTrue("force") { // Helm 3's name for --force-replace
		args = append(args, "--force-replace")
	}
	for _, flag := range []string{"timeout", "server-side", "history-max"} {
		if value, ok := u.o.helm.value(flag); ok {
			args = append(args, "--"+flag+"="+value)
		}
	}
	u.o.rollback.Args = args
	err := u.o.rollback.runChild()
	if code := exitCodeError(0); errors.As(err, &code) {
		// Not the exit code to leave with: the message must be printed.
		return fmt.Errorf("pvc-guard rollback exited with status %d (its message is above)", int(code))
	}
	return err
}

// rollbackFailed says what state the release is in and what to run.
func (u *failureUndo) rollbackFailed(ctx context.Context, helmErr error, failed, target int, rollbackErr error) error {
	state := "unknown (helm history failed)"
	if history, err := u.history(ctx); err == nil && len(history) > 0 {
		last := history[len(history)-1]
		state = fmt.Sprintf("its latest revision is %d, %s (%s)", last.Revision, last.Status, last.Description)
	}
	command := "pvc-guard rollback " + strings.Join(append([]string{u.release, strconv.Itoa(target)}, u.identityToShow()...), " ")
	return fmt.Errorf("%w; revision %d of %s failed, and rolling back to revision %d with pvc-guard rollback failed too: %w.\n"+
		"The release is not rolled back: %s; the cluster holds what revision %d applied before it failed. "+
		"Fix the cause, then run: %s", helmErr, failed, u.release, target, rollbackErr, state, failed, command)
}

// uninstall removes a failed install as Helm's Install.failRelease does:
// hooks as the install had them, the install's timeout and (Helm 4) wait.
func (u *failureUndo) uninstall(ctx context.Context, helmErr error, failed int) error {
	args := append([]string{"uninstall", u.release}, u.o.helm.identity...)
	if u.o.helm.isTrue("no-hooks") {
		args = append(args, "--no-hooks")
	}
	if value, ok := u.o.helm.value("timeout"); ok {
		args = append(args, "--timeout="+value)
	}
	if u.o.major == "v4" {
		args = append(args, "--wait="+u.waitStrategy)
	}
	fmt.Fprintf(u.o.ErrOut, "pvc-guard: the install of %s failed (revision %d); uninstalling it (--atomic)\n", u.release, failed)
	if err := u.o.helmCommand(ctx, args...).Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			err = fmt.Errorf("running %s: %w", u.o.helmBin, err)
		}
		show := append([]string{"uninstall", u.release}, u.identityToShow()...)
		return fmt.Errorf("%w; the install failed, and uninstalling it failed too: %w. The release %s is installed with failed revision %d; run: %s %s",
			helmErr, err, u.release, failed, u.o.helmBin, strings.Join(append(show, args[2+len(u.o.helm.identity):]...), " "))
	}
	return fmt.Errorf("release %s failed, and has been uninstalled due to --atomic being set: %w", u.release, helmErr)
}

// identityToShow are the identity flags for a command the user is told to
// run: the namespace Helm passed a plugin in $HELM_NAMESPACE made explicit,
// and no token printed.
func (u *failureUndo) identityToShow() []string {
	var show []string
	namespace := false
	for _, flag := range u.o.helm.identity {
		switch {
		case strings.HasPrefix(flag, "--kube-token="):
			flag = "--kube-token=$TOKEN"
		case strings.HasPrefix(flag, "--namespace="):
			namespace = true
		}
		show = append(show, flag)
	}
	if ns := os.Getenv("HELM_NAMESPACE"); !namespace && ns != "" {
		show = append(show, "--namespace="+ns)
	}
	return show
}
