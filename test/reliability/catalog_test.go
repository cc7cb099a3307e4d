package reliability

// existing lists the fault and bad-input cases of issue 7 that tests in
// other packages already prove. pkg is the package directory under the
// repository root; tests are (sub)test names as `go test -json` reports
// them, prefixed with "dir#" when the test lives in another package than
// pkg. Observed is what those tests assert, reported when they pass.
type existing struct {
	pkg string
	row row
}

func catalogue() []existing {
	const (
		gitrepo = "internal/controller/gitrepository"
		ks      = "internal/controller/kustomization"
		art     = "internal/artifact"
		kz      = "internal/kustomize"
	)
	none := func(r row) row { r.Lost, r.Wrong = -1, -1; return r }
	return []existing{
		// Faults.
		{gitrepo, none(row{Area: areaFault, Case: "Git server down, then hanging past spec.timeout",
			Tests:    []string{"TestServerOutageAndRecovery"},
			Expected: "Ready=False with a clear reason; last artifact kept and served; recovery on the next retry without a request",
			Observed: "Ready=False GitOperationFailed, then FetchFailed 'timed out'; same digest served throughout; Ready at the new revision by back-off alone"})},
		{gitrepo, none(row{Area: areaFault, Case: "Git server answers with errors for the reference, host or credentials",
			Tests:    []string{"TestBadInputKeepsThePreviousArtifact"},
			Expected: "Ready=False naming the problem; previous artifact kept",
			Observed: "each case Ready=False with its reason; the previous artifact digest unchanged"})},
		{art, none(row{Area: areaFault, Case: "Artifact server unreachable or failing; artifact with a wrong digest",
			Tests:    []string{"TestFetchRetries", "TestFetchNotFoundError", "TestFetchDigestMismatch"},
			Expected: "bounded retries, then a clear error; a digest mismatch is refused before anything is unpacked",
			Observed: "retries on 5xx/429/drops, final on 403/501; mismatch refused, nothing unpacked, so nothing applied"})},
		{"internal/apply", row{Area: areaFault, Case: "Another field manager takes a field the Kustomization owns",
			Tests:    []string{"TestKubectlEditIsReverted", "TestOverrideManagers"},
			Expected: "the edit is reverted as Flux does (kubectl-style managers overridden) and the change reported",
			Observed: "fields taken back; the other manager's entry removed; change set reports 'configured'"}},
		{ks, row{Area: areaFault, Case: "Drift, prune and ownership on the live controller",
			Tests:    []string{"TestDriftPruneAndOwnership"},
			Expected: "kubectl edit reverted; only objects of the inventory with the owner labels pruned",
			Observed: "replicas restored; removed file pruned; another Kustomization's object and an unlabelled one kept"}},
		{"cmd/driftless-controller", none(row{Area: areaFault, Case: "Leader election: two managers, the leader killed",
			Tests:    []string{"TestLeaderElectionTakeover"},
			Expected: "the follower takes over within the lease time and serves the artifacts",
			Observed: "only the leader serves; after SIGKILL the other stores and serves the next revision"})},
		{art, none(row{Area: areaFault, Case: "Storage full while writing an artifact (/dev/full)",
			Tests:    []string{"TestArchiveDiskFull", "TestArchiveReplacesAtomically"},
			Expected: "a 'storage is full' error; no temporary or partial file left; replacement atomic",
			Observed: "error names the artifact; storage empty afterwards; readers never see a partial file"})},
		// Bad input.
		{art, none(row{Area: areaBadInput, Case: "Path traversal, absolute paths, links and devices in a tarball",
			Tests: []string{"TestUntarRejects/parent_traversal", "TestUntarRejects/nested_traversal", "TestUntarRejects/absolute_path",
				"TestUntarRejects/symbolic_link", "TestUntarRejects/hard_link", "TestUntarRejects/character_device", "TestFetchUnsafeArchives"},
			Expected: "refused with the entry named; nothing written outside the target",
			Observed: "every entry refused by name; target directory holds nothing from outside"})},
		{gitrepo, none(row{Area: areaBadInput, Case: "Symlinks out of the repository",
			Tests:    []string{"TestSymlinksNeverLeaveTheRepository"},
			Expected: "links out of the tree are not archived; files inside stay",
			Observed: "/etc/passwd and ../../etc links absent from the artifact"})},
		{kz, none(row{Area: areaBadInput, Case: "Kustomization path or resource escaping the artifact, also by symlink",
			Tests: []string{"TestBuildErrors/path_escapes", "TestBuildErrors/path_escapes_by_symlink",
				"TestBuildErrors/generated_resource_escapes_by_symlink", "TestBuildErrors/resource_above_the_root"},
			Expected: "build refused (ErrPathEscapes) naming the path",
			Observed: "refused; nothing outside the artifact read"})},
		{art, none(row{Area: areaBadInput, Case: "Tar and gzip bombs, too many files",
			Tests: []string{"TestUntarRejects/tar_bomb:_declared_size_over_the_limit", "TestUntarRejects/gzip_bomb:_headers_expand_past_the_limit",
				"TestUntarRejects/too_many_files"},
			Expected: "stopped at the size or file limit, with the limit named",
			Observed: "refused before the limit is passed on disk"})},
		{gitrepo, none(row{Area: areaBadInput, Case: "Files over the limits (repository, download, untar)",
			Tests:    []string{"TestOversizedRepositoryIsRefused", "internal/artifact#TestFetchLimitsAndBadInput"},
			Expected: "StorageOperationFailed naming the limit; previous artifact kept; no partial file",
			Observed: "ArchiveOperationFailed 'limit'; previous digest served; nothing over the limit in storage"})},
		{"internal/sops", none(row{Area: areaBadInput, Case: "YAML bomb (aliases expanding to 10^9 values)",
			Tests:    []string{"TestDecryptFileErrors/YAML_alias_bomb"},
			Expected: "refused as an alias bomb, quickly",
			Observed: "ErrInvalidDocument naming the file and 'alias bomb'"})},
		{kz, none(row{Area: areaBadInput, Case: "Duplicate objects in one build",
			Tests:    []string{"TestBuildErrors/duplicate_files", "TestBuildErrors/duplicate_after_substitution"},
			Expected: "refused naming the object and both files",
			Observed: "ErrDuplicate 'built twice (from a.yaml and from b.yaml)'"})},
		{kz, none(row{Area: areaBadInput, Case: "An object with no kind or apiVersion",
			Tests:    []string{"TestBuildErrors/missing_kind_generated", "TestBuildErrors/not_a_manifest_generated"},
			Expected: "refused naming file and document",
			Observed: "ErrInvalidManifest 'document 2: kind is missing'"})},
		{ks, none(row{Area: areaBadInput, Case: "Bad manifests on the live controller (malformed, unbuildable, missing CRD, wrong SOPS key)",
			Tests:    []string{"TestBadInputFailsClearly"},
			Expected: "Ready=False with the reason and the file named; nothing applied",
			Observed: "each case Ready=False BuildFailed/ReconciliationFailed/ArtifactFailed with the file in the message"})},
		{ks, none(row{Area: areaBadInput, Case: "A namespace the tenant does not own",
			Tests:    []string{"TestMissionTenantExample"},
			Expected: "applied as the tenant's ServiceAccount; objects outside its namespace denied clearly",
			Observed: "denied with the ServiceAccount named; nothing applied with the controller's rights"})},
		{ks, none(row{Area: areaBadInput, Case: "Cross-namespace reference under --no-cross-namespace-refs; default service account",
			Tests:    []string{"TestLockdownShard"},
			Expected: "Stalled AccessDenied naming the namespace; default account impersonated",
			Observed: "Stalled AccessDenied; the ConfigMap was not applied with the controller's rights"})},
		{kz, none(row{Area: areaBadInput, Case: "Remote bases under --no-remote-bases",
			Tests: []string{"TestBuildErrors/remote_github_base", "TestBuildErrors/remote_https_resource",
				"TestBuildErrors/forced_git_component", "TestBuildErrors/file_repository_always_refused"},
			Expected: "ErrRemoteRefused naming the entry",
			Observed: "refused; no network access made"})},
		{kz, none(row{Area: areaBadInput, Case: "Invalid or unsupported substitution syntax, unset variables",
			Tests: []string{"TestBuildErrors/unsupported_substitution", "TestBuildErrors/strict_substitution",
				"TestBuildErrors/substituted_value_breaks_yaml", "internal/envsubst#TestErrorsAreCapped", "internal/envsubst#TestWorkBudget"},
			Expected: "ErrSubstitution naming object, line and variable; work bounded",
			Observed: "refused with 'line 3, column 6: ${v:+x}'; error list and expansion work capped"})},
		{ks, none(row{Area: areaBadInput, Case: "A dependency cycle",
			Tests:    []string{"TestDependencyCycleIsNamed"},
			Expected: "the cycle named in the condition; nothing applied",
			Observed: "Ready=False naming every member of the cycle"})},
		{"internal/sops", none(row{Area: areaBadInput, Case: "A Secret's value never in a condition, event or log",
			Tests:    []string{"TestDecryptObjectErrors", "TestDecryptFileErrors"},
			Expected: "error messages carry no plaintext and no key material",
			Observed: "every error checked against the plaintext and keys: none appears"})},
		// Fuzz seed corpora.
		{"internal/envsubst", none(row{Area: areaFuzz, Case: "Substitution parser", Tests: []string{"FuzzSubstitute"},
			Expected: "no panic, bounded work", Observed: "seed corpus passes"})},
		{"internal/ignore", none(row{Area: areaFuzz, Case: "Ignore-pattern matcher", Tests: []string{"FuzzMatch"},
			Expected: "no panic", Observed: "seed corpus passes"})},
		{art, none(row{Area: areaFuzz, Case: "Tar extraction", Tests: []string{"FuzzUntar"},
			Expected: "no panic; nothing written outside the target", Observed: "seed corpus passes"})},
		{art, none(row{Area: areaFuzz, Case: "Revision parsing", Tests: []string{"FuzzParseRevision"},
			Expected: "no panic; round trip", Observed: "seed corpus passes"})},
		{kz, none(row{Area: areaFuzz, Case: "Kustomization path resolution", Tests: []string{"FuzzResolvePath"},
			Expected: "no panic; never outside the root", Observed: "seed corpus passes"})},
	}
}
