# tests/lab/: the lab of real libvirtd hosts (lab.sh), the capture of real
# libvirt output into tests/data/drivers/ (capture.sh), and the end-to-end
# tests that run virt-balancer against a lab (each starts its own lab in a
# temporary folder and always stops it). They need root, libvirt-daemon and
# qemu-system-x86 (contrib/debian-deps.sh); KVM is used when /dev/kvm exists,
# TCG otherwise.
dist_noinst_SCRIPTS += tests/lab/lab.sh tests/lab/capture.sh
TESTS += tests/lab/lab-selftest.sh
EXTRA_DIST += tests/lab/lab-selftest.sh
