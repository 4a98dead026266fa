# tests/lab/: the lab of real libvirtd hosts (lab.sh), the capture of real
# libvirt output into tests/data/drivers/ (capture.sh), and the end-to-end
# tests that run virt-balancer against a lab (each starts its own lab in a
# temporary folder and always stops it). They need root, libvirt-daemon,
# qemu-system-x86 and jq (contrib/debian-deps.sh); KVM is used when /dev/kvm
# exists, TCG otherwise. Tests waiting for pieces of the program still being
# built live in tests/lab/pending/ and are not run.
dist_noinst_SCRIPTS += tests/lab/lab.sh tests/lab/capture.sh
EXTRA_DIST += tests/lab/e2e-common.sh tests/lab/lab-policy.yaml tests/lab/lab-policy-cap2.yaml tests/lab/pending
LAB_TESTS = tests/lab/lab-selftest.sh tests/lab/e2e-plan.sh tests/lab/e2e-host-down.sh \
	tests/lab/e2e-inventory-replay.sh tests/lab/e2e-evacuate.sh \
	tests/lab/e2e-dest-down.sh tests/lab/e2e-evacuate-crash.sh tests/lab/e2e-default-cpu.sh \
	tests/lab/e2e-cold-crash.sh tests/lab/e2e-hung-source.sh tests/lab/e2e-metrics.sh \
	tests/lab/e2e-kept-defs.sh
TESTS += $(LAB_TESTS)
EXTRA_DIST += $(LAB_TESTS)
