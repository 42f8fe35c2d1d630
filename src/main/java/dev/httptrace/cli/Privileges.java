package dev.httptrace.cli;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;

/**
 * --user: once the filter is attached, the tracer needs no privilege to go on (it only
 * reads file descriptors it already holds), so it becomes an ordinary user, as
 * {@code tcpdump -Z} does: supplementary groups, group, then user, through libc by FFM.
 * A process whose user ids all leave 0 loses every capability (the kernel clears them),
 * and glibc applies set*id to every thread of the JVM, not only the calling one.
 */
final class Privileges {

    /** A user from the password database. */
    record Account(String name, int uid, int gid) {}

    /** Switching user failed; the message names the call and the reason. */
    static final class SwitchFailed extends Exception {
        SwitchFailed(String message) {
            super(message);
        }
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout ERRNO_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = ERRNO_STATE.varHandle(groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    // struct passwd (glibc, LP64): the fields before pw_gecos are all we read.
    private static final StructLayout PASSWD = MemoryLayout.structLayout(
            ADDRESS.withName("pw_name"), ADDRESS.withName("pw_passwd"),
            JAVA_INT.withName("pw_uid"), JAVA_INT.withName("pw_gid"));
    private static final long PW_UID = PASSWD.byteOffset(groupElement("pw_uid"));
    private static final long PW_GID = PASSWD.byteOffset(groupElement("pw_gid"));

    private static final MethodHandle GETPWNAM = libc("getpwnam", FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle INITGROUPS = libc("initgroups",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle SETGID = libc("setgid", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle SETUID = libc("setuid", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle STRERROR = libc("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Privileges() {}

    /** The user of this name, or empty when the password database has none. */
    static Optional<Account> lookup(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pw = (MemorySegment) GETPWNAM.invokeExact(arena.allocateFrom(name));
            if (pw.equals(MemorySegment.NULL)) {
                return Optional.empty();
            }
            pw = pw.reinterpret(PASSWD.byteSize());
            return Optional.of(new Account(name, pw.get(JAVA_INT, PW_UID), pw.get(JAVA_INT, PW_GID)));
        } catch (Throwable t) {
            throw new IllegalStateException("getpwnam failed", t);
        }
    }

    /**
     * Becomes the account for good: its groups (initgroups calls setgroups), its group,
     * then its user. Afterwards root cannot be regained; that is checked, not assumed.
     */
    static void switchTo(Account account) throws SwitchFailed {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(ERRNO_STATE);
            check("initgroups", (int) INITGROUPS.invokeExact(errno, arena.allocateFrom(account.name()), account.gid()), errno);
            check("setgid", (int) SETGID.invokeExact(errno, account.gid()), errno);
            check("setuid", (int) SETUID.invokeExact(errno, account.uid()), errno);
            if (account.uid() != 0 && (int) SETUID.invokeExact(errno, 0) == 0) {
                throw new SwitchFailed("setuid(0) still succeeds after dropping root");
            }
        } catch (SwitchFailed e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    private static void check(String call, int ret, MemorySegment errnoState) throws Throwable {
        if (ret != 0) {
            int errno = (int) ERRNO.get(errnoState, 0L);
            MemorySegment text = ((MemorySegment) STRERROR.invokeExact(errno)).reinterpret(256);
            throw new SwitchFailed(call + ": " + text.getString(0));
        }
    }

    private static MethodHandle libc(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor, options);
    }
}
