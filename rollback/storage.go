package rollback

import (
	helmrelease "helm.sh/helm/v4/pkg/release"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
)

// renderedTarget is Helm's release storage with one difference: reading the
// target revision returns the rewritten copy. Helm's rollback loads the
// target with Get and copies its manifest into the new revision, so the
// rewritten manifest is what Helm applies and records. Every other read and
// every write reaches the real driver unchanged.
type renderedTarget struct {
	driver.Driver
	target *release.Release
}

// Get implements driver.Driver.
func (d *renderedTarget) Get(key string) (helmrelease.Releaser, error) {
	stored, err := d.Driver.Get(key)
	if err != nil {
		return stored, err
	}
	if rel, err := AsRelease(stored); err == nil && rel.Name == d.target.Name && rel.Version == d.target.Version {
		copied := *d.target
		return &copied, nil
	}
	return stored, nil
}
