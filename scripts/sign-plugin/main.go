// Command sign-plugin writes a Helm 4 provenance file (TARBALL.prov) for
// each plugin tarball it is given, so `helm plugin install TARBALL
// --keyring K` verifies it. `helm plugin package --sign` cannot do this for
// release tarballs: it packs a directory itself, under the fixed name
// NAME-VERSION.tgz, and a .prov names the file it vouches for, so the
// per-platform names (pvc-guard-0.1.0-linux-amd64.tgz) must be signed as
// they are. Run by scripts/package.sh when SIGN_KEY is set.
//
//	sign-plugin -key NAME -keyring SECRING TARBALL...
//
// HELM_KEY_PASSPHRASE unlocks an encrypted key, as it does for helm.
package main

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"helm.sh/helm/v4/pkg/provenance"
	"sigs.k8s.io/yaml"
)

func main() {
	key := flag.String("key", "", "name of the signing key (part of its user id, as helm --key)")
	keyring := flag.String("keyring", "", "secret keyring holding the key")
	flag.Parse()
	if err := run(*key, *keyring, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "sign-plugin: %v\n", err)
		os.Exit(1)
	}
}

func run(key, keyring string, tarballs []string) error {
	if key == "" || keyring == "" || len(tarballs) == 0 {
		return errors.New("usage: sign-plugin -key NAME -keyring SECRING TARBALL...")
	}
	signer, err := provenance.NewFromKeyring(keyring, key)
	if err != nil {
		return fmt.Errorf("reading keyring %s: %w", keyring, err)
	}
	if signer.Entity == nil {
		return fmt.Errorf("keyring %s has no key named %q", keyring, key)
	}
	if err := signer.DecryptKey(passphrase); err != nil {
		return fmt.Errorf("unlocking key %q: %w", key, err)
	}
	for _, tarball := range tarballs {
		if err := sign(signer, tarball); err != nil {
			return fmt.Errorf("signing %s: %w", tarball, err)
		}
	}
	return nil
}

func passphrase(name string) ([]byte, error) {
	if p, ok := os.LookupEnv("HELM_KEY_PASSPHRASE"); ok {
		return []byte(p), nil
	}
	return nil, fmt.Errorf("key %q is encrypted: set HELM_KEY_PASSPHRASE", name)
}

// sign writes tarball.prov. The signed message carries the plugin's name
// and version, as Helm's own plugin signatures do, and the sha256 of the
// tarball under its file name, which is what Helm verifies.
func sign(signer *provenance.Signatory, tarball string) error {
	data, err := os.ReadFile(tarball)
	if err != nil {
		return err
	}
	metadata, err := pluginMetadata(tarball)
	if err != nil {
		return err
	}
	prov, err := signer.ClearSign(data, filepath.Base(tarball), metadata)
	if err != nil {
		return err
	}
	return os.WriteFile(tarball+".prov", []byte(prov), 0o644)
}

// pluginMetadata is the name and version from the tarball's first
// plugin.yaml, the one Helm 4 reads as the plugin's.
func pluginMetadata(tarball string) ([]byte, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	archive := tar.NewReader(gz)
	for {
		header, err := archive.Next()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no plugin.yaml in the archive")
		} else if err != nil {
			return nil, err
		}
		if filepath.Base(header.Name) != "plugin.yaml" {
			continue
		}
		raw, err := io.ReadAll(archive)
		if err != nil {
			return nil, err
		}
		var meta struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		}
		if err := yaml.Unmarshal(raw, &meta); err != nil {
			return nil, fmt.Errorf("%s: %w", header.Name, err)
		}
		return yaml.Marshal(meta)
	}
}
