package dev.httptrace.exchange;

/**
 * A process at one end of a connection, as the TLS source saw it (ECS process fields).
 *
 * @param pid        process id (thread group id)
 * @param tid        thread that made the call
 * @param name       process name ({@code /proc/PID/comm}, else the thread's name)
 * @param threadName name of that thread
 * @param executable path of the program ({@code /proc/PID/exe}); null when it could not be read
 */
public record ProcessInfo(int pid, int tid, String name, String threadName, String executable) {}
