// Package kustomize builds the manifests of a Kustomization the way Flux's
// kustomize-controller does, from a directory inside an extracted artifact:
//
//  1. The path is resolved inside the artifact root; a path that leaves the
//     root (also through a symbolic link) or does not exist is refused with
//     an error naming it.
//  2. When the directory has no kustomization.yaml, kustomization.yml or
//     Kustomization, one is generated, as Flux does: every *.yaml and *.yml
//     file below it, recursively, each of which must hold Kubernetes objects
//     (apiVersion and kind), and every sub-directory that has its own
//     kustomization file as one resource, without descending into it. The
//     artifact is expected to have been filtered by its source's ignore
//     rules (.sourceignore), as source-controller does.
//  3. The spec fields are merged into that kustomization, as Flux merges
//     them into the file: targetNamespace sets namespace, namePrefix and
//     nameSuffix replace the file's, patches and components are appended,
//     images replace the entry of the same name or are appended, and
//     buildMetadata options are added. The merge happens in an in-memory
//     overlay: the artifact on disk is never written. (Editing the file,
//     rather than wrapping it in another kustomization, keeps Flux's
//     semantics: a spec patch targets names before the file's namePrefix.)
//  4. Remote references are found by walking the kustomization graph before
//     the build (resources, bases, components, patch and generator files,
//     and the file paths inside generator and transformer configurations)
//     and refused under NoRemoteBases, naming the file that holds them, so
//     nothing is fetched; file:// repositories are always refused. When
//     remote bases are allowed, kustomize clones them into its temporary
//     directories, which the build may read. The same walk finds the files
//     consumed by secretGenerator (in the kustomization and its local bases
//     and components) and hands them to DecryptFile; what it returns
//     replaces them in the overlay, as Flux decrypts them before the build.
//  5. kustomize (sigs.k8s.io/kustomize/api) runs on a filesystem confined to
//     the artifact root, with plugins disabled, no reordering and, like Flux,
//     without the kustomization-root load restriction: a kustomization may
//     load files from a parent directory, never from outside the artifact.
//     Every file is read up to Options.MaxFileSize (DefaultMaxFileSize,
//     16 MiB); a larger one is refused with ErrFileTooLarge, naming it.
//     The build always records each object's source file
//     (kustomize's originAnnotations), to name it in errors, and drops the
//     annotation unless spec.buildMetadata asks for it.
//  6. Each object is decrypted (the Decrypt hook, skipped for objects
//     labelled or annotated kustomize.toolkit.fluxcd.io/decrypt: disabled),
//     then substituted, then given the common metadata; objects with the same
//     group, kind, namespace and name are refused, naming them and their
//     files. The digest is the SHA-256 of the resulting multi-document YAML.
//
// Post-build substitution (package envsubst, strict unless AllowUndefined)
// runs on the YAML form of each object, which is then parsed again, so
// replicas: ${replicas} becomes a number, as in Flux. It is skipped without
// PostBuild, or with the WithVariables strategy and no variable, and for
// objects labelled or annotated kustomize.toolkit.fluxcd.io/substitute:
// disabled. MergeVars merges substitute over substituteFrom data.
//
// Error messages name files relative to the artifact root.
//
// Concurrency and time: a Builder runs a bounded number of builds at once
// (Build uses a process-wide one of DefaultConcurrency slots); a build
// waiting for a slot returns when its context ends. Once it has a slot, a
// build has Options.Timeout (DefaultTimeout, 2 minutes) and fails with
// ErrBuildTimeout past it. kustomize keeps its OpenAPI schema in process
// globals that are not safe for concurrent builds that change it, so
// builds whose kustomizations mention openapi (or that have remote bases,
// which could) run alone and reset the schema afterwards, and the others
// run in parallel on the default schema (see schemaGate). Post-build
// substitution may write MaxFileSize bytes per object
// (envsubst.ErrExpansionTooLarge past it).
package kustomize
