/*
 * xna-priv-probe: which of the AF_XDP NIC's operations a process without
 * capabilities can do with descriptors that root made for it, on the
 * kernel it runs on.  The design of a deprivileged nic=afxdp rests on
 * these answers (docs/security.md, "nic=afxdp without root"); run on
 * dom0's kernel by tests/xen/priv-probe.
 *
 *   xna-priv-probe IFNAME   (as root; IFNAME a veth with 2 queues, up)
 *
 * Each line says what was tried, as whom, what the design expects and
 * what happened; the exit status is 0 only when every answer is the
 * expected one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER 44
#endif

#define NOBODY 65534
#define RING 64

static int failures;

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int map_create(int type, int ks, int vs, int n, int inner)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = n;
	a.inner_map_fd = inner;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

static int map_op(int cmd, int fd, const void *k, void *v)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = fd;
	a.key = (uintptr_t)k;
	if (cmd == BPF_MAP_GET_NEXT_KEY)
		a.next_key = (uintptr_t)v;
	else
		a.value = (uintptr_t)v;
	return sys_bpf(cmd, &a);
}

/* Record one answer: @ret < 0 is a refusal (errno says why). */
static void answer(const char *who, const char *what, bool want_ok, int ret)
{
	bool ok = ret >= 0;
	int err = errno;

	printf("PROBE %-6s %-50s want %-7s got %s%s%s\n", who, what,
	       want_ok ? "ok" : "refused", ok ? "ok" : "refused (",
	       ok ? "" : strerror(err), ok ? "" : ")");
	if (ok != want_ok)
		failures++;
}

/* UMEM and rings on @fd, in the memory of the calling process. */
static int xsk_rings(int fd, const char *who)
{
	size_t len = 64 * 4096;
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct xdp_umem_reg mr = {
		.addr = (uintptr_t)mem, .len = len, .chunk_size = 4096,
	};
	struct xdp_mmap_offsets off;
	socklen_t ol = sizeof(off);
	int n = RING, ret;
	void *p;

	ret = setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr));
	if (!ret)
		ret = setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n));
	if (!ret)
		ret = setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n,
				 sizeof(n));
	if (!ret)
		ret = setsockopt(fd, SOL_XDP, XDP_RX_RING, &n, sizeof(n));
	if (!ret)
		ret = setsockopt(fd, SOL_XDP, XDP_TX_RING, &n, sizeof(n));
	if (!ret)
		ret = getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &ol);
	if (!ret) {
		p = mmap(NULL, off.rx.desc + RING * sizeof(struct xdp_desc),
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
			 XDP_PGOFF_RX_RING);
		ret = p == MAP_FAILED ? -1 : 0;
	}
	answer(who, "UMEM, rings and their mmap on root's socket", true,
	       ret);
	return ret;
}

static int xsk_bind(int fd, int ifindex, int queue)
{
	struct sockaddr_xdp sx = {
		.sxdp_family = AF_XDP, .sxdp_ifindex = ifindex,
		.sxdp_queue_id = queue, .sxdp_flags = XDP_COPY,
	};

	return bind(fd, (struct sockaddr *)&sx, sizeof(sx));
}

struct objs {
	int ifindex;
	int hash, inner, outer, xskmap, ring, pcpu, pcpu_ro;
	int xsk_own, xsk_for_root, pkt, pkt_locked;
	int to_root[2], to_child[2];
};

static void wait_for(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		exit(2);
}

static void signal_to(int fd)
{
	char c = 1;

	if (write(fd, &c, 1) != 1)
		exit(2);
}

static void as_nobody(struct objs *o)
{
	struct sockaddr_ll all = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = o->ifindex,
	};
	uint32_t k = 1, v = 2, nk;
	uint64_t pv[64];
	char frame[2048];
	int one = 1;
	void *p;

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY)) {
		perror("xna-priv-probe: dropping to nobody");
		exit(2);
	}
	/* What a deprivileged QEMU cannot do, so root must. */
	answer("nobody", "create a BPF map", false,
	       map_create(BPF_MAP_TYPE_HASH, 4, 4, 8, 0));
	answer("nobody", "socket(AF_XDP)", false,
	       socket(AF_XDP, SOCK_RAW, 0));
	answer("nobody", "socket(AF_PACKET)", false,
	       socket(AF_PACKET, SOCK_RAW, 0));
	/* What it can, with root's descriptors. */
	answer("nobody", "hash map: update", true,
	       map_op(BPF_MAP_UPDATE_ELEM, o->hash, &k, &v));
	answer("nobody", "hash map: lookup", true,
	       map_op(BPF_MAP_LOOKUP_ELEM, o->hash, &k, &v));
	answer("nobody", "hash map: next key", true,
	       map_op(BPF_MAP_GET_NEXT_KEY, o->hash, NULL, &nk));
	answer("nobody", "hash map: delete", true,
	       map_op(BPF_MAP_DELETE_ELEM, o->hash, &k, NULL));
	k = 0;
	answer("nobody", "map of maps: insert an inner map", true,
	       map_op(BPF_MAP_UPDATE_ELEM, o->outer, &k, &o->inner));
	answer("nobody", "per-CPU array: lookup", true,
	       map_op(BPF_MAP_LOOKUP_ELEM, o->pcpu, &k, pv));
	memset(pv, 0, sizeof(pv));
	answer("nobody", "read-only per-CPU array: update", false,
	       map_op(BPF_MAP_UPDATE_ELEM, o->pcpu_ro, &k, pv));
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, o->ring, 0);
	answer("nobody", "ring buffer: map its consumer page", true,
	       p == MAP_FAILED ? -1 : 0);
	p = mmap(NULL, 4096 + 2 * 4 * 4096, PROT_READ, MAP_SHARED, o->ring,
		 4096);
	answer("nobody", "ring buffer: map its data", true,
	       p == MAP_FAILED ? -1 : 0);
	/*
	 * A socket root made: the deprivileged process can set it up and,
	 * unless root binds it first, bind it to any interface.
	 */
	if (xsk_rings(o->xsk_own, "nobody") == 0) {
		answer("nobody", "bind root's AF_XDP socket itself", true,
		       xsk_bind(o->xsk_own, o->ifindex, 0));
		answer("nobody", "socket map: insert the bound socket", true,
		       map_op(BPF_MAP_UPDATE_ELEM, o->xskmap, &k,
			      &o->xsk_own));
		answer("nobody", "rebind a bound AF_XDP socket", false,
		       xsk_bind(o->xsk_own, o->ifindex, 1));
	}
	/* The split: rings here, bind by root (the helper's policy). */
	xsk_rings(o->xsk_for_root, "nobody");
	signal_to(o->to_root[1]);
	wait_for(o->to_child[0]);
	answer("nobody", "socket map: insert the socket root bound", true,
	       map_op(BPF_MAP_UPDATE_ELEM, o->xskmap, &(uint32_t){ 1 },
		      &o->xsk_for_root));
	/*
	 * A packet socket root bound to send only: rebound, it sees every
	 * frame of the interface, unless root locked a drop-all filter on it.
	 */
	answer("nobody", "rebind root's packet socket to every protocol",
	       true, bind(o->pkt, (struct sockaddr *)&all, sizeof(all)));
	answer("nobody", "rebind a filter-locked one too", true,
	       bind(o->pkt_locked, (struct sockaddr *)&all, sizeof(all)));
	answer("nobody", "remove a locked filter", false,
	       setsockopt(o->pkt_locked, SOL_SOCKET, SO_DETACH_FILTER, &one,
			  sizeof(one)));
	signal_to(o->to_root[1]);
	wait_for(o->to_child[0]);
	usleep(100000);
	answer("nobody", "receive root's frame on the rebound socket", true,
	       recv(o->pkt, frame, sizeof(frame), MSG_DONTWAIT));
	answer("nobody", "receive it on the filter-locked one", false,
	       recv(o->pkt_locked, frame, sizeof(frame), MSG_DONTWAIT));
	exit(failures ? 1 : 0);
}

int main(int argc, char **argv)
{
	struct sock_filter drop_all[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog fprog = { .len = 1, .filter = drop_all };
	struct sockaddr_ll tx = { .sll_family = AF_PACKET };
	struct objs o;
	int one = 1, status;
	pid_t pid;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc != 2 || !(o.ifindex = if_nametoindex(argv[1]))) {
		fprintf(stderr, "usage: xna-priv-probe IFNAME (a veth, up)\n");
		return 2;
	}
	tx.sll_ifindex = o.ifindex;
	o.hash = map_create(BPF_MAP_TYPE_HASH, 4, 4, 8, 0);
	o.inner = map_create(BPF_MAP_TYPE_HASH, 4, 4, 8, 0);
	o.outer = map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 4, o.inner);
	o.xskmap = map_create(BPF_MAP_TYPE_XSKMAP, 4, 4, 4, 0);
	o.ring = map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 4 * 4096, 0);
	o.pcpu = map_create(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, 0);
	{
		union bpf_attr a;
		struct bpf_map_info mi;

		memset(&a, 0, sizeof(a));
		memset(&mi, 0, sizeof(mi));
		a.info.bpf_fd = o.pcpu;
		a.info.info_len = sizeof(mi);
		a.info.info = (uintptr_t)&mi;
		sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a);
		memset(&a, 0, sizeof(a));
		a.map_id = mi.id;
		a.open_flags = BPF_F_RDONLY;
		o.pcpu_ro = sys_bpf(BPF_MAP_GET_FD_BY_ID, &a);
	}
	o.xsk_own = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	o.xsk_for_root = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	o.pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	o.pkt_locked = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	answer("root", "make the maps and sockets", true,
	       (o.hash | o.inner | o.outer | o.xskmap | o.ring | o.pcpu |
		o.pcpu_ro | o.xsk_own | o.xsk_for_root | o.pkt |
		o.pkt_locked) < 0 ? -1 : 0);
	answer("root", "packet socket: bind to send only",
	       true, bind(o.pkt, (struct sockaddr *)&tx, sizeof(tx)));
	answer("root", "packet socket: a locked drop-all filter", true,
	       setsockopt(o.pkt_locked, SOL_SOCKET, SO_ATTACH_FILTER, &fprog,
			  sizeof(fprog)) ||
	       setsockopt(o.pkt_locked, SOL_SOCKET, SO_LOCK_FILTER, &one,
			  sizeof(one)) ? -1 : 0);
	if (pipe(o.to_root) || pipe(o.to_child))
		return 2;
	pid = fork();
	if (pid == 0)
		as_nobody(&o);
	wait_for(o.to_root[0]);
	answer("root", "bind a socket whose UMEM and rings nobody made",
	       true, xsk_bind(o.xsk_for_root, o.ifindex, 1));
	signal_to(o.to_child[1]);
	/* A frame on the interface, for the sockets nobody rebound. */
	wait_for(o.to_root[0]);
	{
		unsigned char f[60] = {
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1,
			0x88, 0xb5,
		};
		int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

		answer("root", "send a frame on the interface", true,
		       sendto(s, f, sizeof(f), 0, (struct sockaddr *)&tx,
			      sizeof(tx)));
	}
	signal_to(o.to_child[1]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) == 2)
		failures++;
	else
		failures += WEXITSTATUS(status);
	printf("PROBE %s\n", failures ? "FAILED" : "all as expected");
	return failures ? 1 : 0;
}
