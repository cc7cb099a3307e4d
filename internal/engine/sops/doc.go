// Package sops decrypts SOPS-encrypted Kubernetes manifests and files for the
// Kustomization controller (Flux's spec.decryption with provider sops).
//
// It implements the SOPS document format itself (AES-256-GCM values, the
// message authentication code, key groups with Shamir secret sharing, and the
// YAML, JSON, dotenv, INI and binary stores) and recovers the data key with age
// (X25519 and post-quantum ML-KEM-768 hybrid identities, via filippo.io/age) or
// OpenPGP private keys (via github.com/ProtonMail/go-crypto). It does not link
// github.com/getsops/sops: that library's root package imports every cloud KMS
// SDK, which roughly doubles the controller binary. Cloud KMS and Vault master
// keys are recognised in documents and in the decryption Secret, but decrypting
// with them reports that they are not supported yet.
//
// Keys come from the data of the Secret named by spec.decryption.secretRef,
// selected by entry name as Flux does: *.agekey, *.asc, sops.aws-kms,
// sops.azure-kv, sops.gcp-kms and sops.vault-token.
//
// Objects are decrypted after the kustomize build, when kustomize may already
// have reordered fields and injected labels, namespaces or name prefixes. Every
// encrypted value is still authenticated on its own (AES-GCM with its key path
// as additional data) and the document's MAC must authenticate under the data
// key, but the MAC is not recomputed over the object, because the injected data
// would make it fail; Flux skips the same check. A plain value where the
// document's rules say sops encrypted one is refused, as sops refuses it
// (empty strings aside, which sops leaves plain), except the namespace, labels
// and annotations a build sets on any object. Files (decrypted before the
// build, for secretGenerator) are intact and get the full check, as with
// `sops --decrypt`.
package sops
