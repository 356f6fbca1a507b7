#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// Makes standard output line-buffered, so every printed line leaves the process at once even when the output is
/// a pipe or a file (`qlink demo | tee`, a service under systemd); the C library would otherwise hold it in 4 KiB
/// blocks. Standard error (the logs) is unbuffered already.
func lineBufferStandardOutput() {
    setvbuf(stdout, nil, _IOLBF, 0)
}
