// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The address space as a picture (taskvma maps --svg).
 *
 * A 64-bit address space cannot be drawn to one scale: a 4 KiB guard page
 * and the 100+ TiB between the heap and the libraries differ by 2^35.  So
 * the map is cut into segments where a gap is large next to what is mapped
 * around it (more than half of the segment so far, and at least 64 KiB);
 * such a gap is drawn as a fixed band, marked with its size.  Each segment
 * has its own scale, its height growing with the log of its size (a 4 KiB
 * segment 14 px, 2 MiB 122 px, 1 GiB 230 px), and inside it mappings and
 * the small gaps between them are to scale, except that no mapping is
 * thinner than 3 px (so each one can be seen and pointed at; 1 px in maps
 * of more than 500 mappings, 0.25 px above 5,000).
 *
 * One process: drawn upwards (low addresses at the bottom, as people sketch
 * it), addresses on the left, names on the right where they fit.  Several
 * processes: one row each, the same layout squeezed to the width.
 *
 * Colour: the hue says the kind (file, anon, heap, stack, special,
 * anon_named), the shade the permission (executable darkest, then
 * writable, read-only, no access lightest); shared mappings have a dashed
 * outline, [heap], [stack] and the special mappings a black one.  Every
 * mapping is one <rect class="vma"> with data- attributes and a <title>
 * holding its /proc line, so a reader can hover it and a test can find it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

struct svg_proc {
	pid_t pid;
	char comm[16];
	size_t n;
	struct taskvma_vma *vmas;
	char *names;
};

struct taskvma_svg {
	int overview;
	int width;
	size_t nprocs, cap;
	struct svg_proc *procs;
};

int taskvma_svg_new(struct taskvma_svg **svg, const struct taskvma_svg_opts *opts)
{
	struct taskvma_svg *s;

	if (!svg)
		return -EINVAL;
	*svg = NULL;
	if (!TV_OPTS_VALID(opts, taskvma_svg_opts) || (opts && opts->width < 0))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (opts) {
		s->overview = opts->overview;
		s->width = opts->width;
	}
	*svg = s;
	return 0;
}

void taskvma_svg_free(struct taskvma_svg *svg)
{
	if (!svg)
		return;
	for (size_t i = 0; i < svg->nprocs; i++) {
		free(svg->procs[i].vmas);
		free(svg->procs[i].names);
	}
	free(svg->procs);
	free(svg);
}

int taskvma_svg_add(struct taskvma_svg *svg, pid_t pid, const char *comm,
		    const struct taskvma_vma *vmas, size_t n)
{
	struct svg_proc *p;
	size_t names = 0, off = 0;

	if (!svg || (n && !vmas))
		return -EINVAL;
	if (tv_reserve((void **)&svg->procs, &svg->cap, svg->nprocs + 1, sizeof(*svg->procs), 16))
		return -ENOMEM;
	p = &svg->procs[svg->nprocs];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm ? comm : "");
	for (size_t i = 0; i < n; i++)
		names += vmas[i].name_len + 1;
	p->vmas = malloc((n ? n : 1) * sizeof(*p->vmas));
	p->names = malloc(names ? names : 1);
	if (!p->vmas || !p->names) {
		free(p->vmas);
		free(p->names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		p->vmas[i] = vmas[i];
		memcpy(p->names + off, vmas[i].name, vmas[i].name_len);
		p->names[off + vmas[i].name_len] = 0;
		p->vmas[i].name = p->names + off;
		off += vmas[i].name_len + 1;
	}
	p->n = n;
	svg->nprocs++;
	return 0;
}

/* ---- layout ------------------------------------------------------------ */

enum { IT_VMA, IT_GAP, IT_CUT };	/* a mapping, a gap to scale, a compressed gap */

struct item {
	int type;
	size_t idx;		/* IT_VMA: the mapping */
	uint64_t lo, hi;	/* addresses covered */
	double len;		/* px along the axis, before any squeezing */
};

#define CUT_LEN 26.0
#define MIN_LEN 3.0
#define GAP_KEEP_MIN (64u << 10)

/* log2 without libm: the exponent, plus the mantissa's linear part (within
 * 0.09 of the real thing, and increasing: enough to size a segment) */
static double approx_log2(double x)
{
	int e = 0;

	if (x < 1)
		return 0;
	while (x >= 2) {
		x /= 2;
		e++;
	}
	return e + (x - 1);
}

static double seg_len(uint64_t bytes)
{
	double h = 14.0 + 12.0 * approx_log2((double)bytes / 4096.0 + 1.0);

	return h > 320.0 ? 320.0 : h;
}

/* items[] in address order; returns the count, or 0 with errno */
static size_t layout(const struct svg_proc *p, struct item **out, double *total)
{
	struct item *it = calloc(2 * p->n + 1, sizeof(*it));
	uint64_t *segbytes = calloc(p->n + 1, sizeof(*segbytes));
	size_t *seg = calloc(2 * p->n + 1, sizeof(*seg));
	size_t n = 0, nseg = 0;
	double min_len;

	*total = 0;
	if (!it || !segbytes || !seg) {
		free(it);
		free(segbytes);
		free(seg);
		errno = ENOMEM;
		*out = NULL;
		return 0;
	}
	for (size_t i = 0; i < p->n; i++) {
		const struct taskvma_vma *v = &p->vmas[i];

		if (i) {
			uint64_t prev = p->vmas[i - 1].end;
			uint64_t gap = v->start > prev ? v->start - prev : 0;
			uint64_t keep = segbytes[nseg] / 2;

			if (keep < GAP_KEEP_MIN)
				keep = GAP_KEEP_MIN;
			if (gap > keep) {
				it[n] = (struct item){ .type = IT_CUT, .lo = prev, .hi = v->start, .len = CUT_LEN };
				seg[n++] = SIZE_MAX;
				nseg++;
			} else if (gap) {
				it[n] = (struct item){ .type = IT_GAP, .lo = prev, .hi = v->start };
				seg[n++] = nseg;
				segbytes[nseg] += gap;
			}
		}
		it[n] = (struct item){ .type = IT_VMA, .idx = i, .lo = v->start, .hi = v->end };
		seg[n++] = nseg;
		segbytes[nseg] += v->end - v->start;
	}
	/* 3 px each keeps a 65,530-mapping map at 200,000 px: big maps get less */
	min_len = p->n <= 500 ? MIN_LEN : p->n <= 5000 ? 1.0 : 0.25;
	for (size_t i = 0; i < n; i++) {
		if (it[i].type != IT_CUT) {
			uint64_t sb = segbytes[seg[i]] ? segbytes[seg[i]] : 1;
			double l = (double)(it[i].hi - it[i].lo) * seg_len(sb) / (double)sb;

			it[i].len = it[i].type == IT_VMA && l < min_len ? min_len : l;
		}
		*total += it[i].len;
	}
	free(segbytes);
	free(seg);
	*out = it;
	if (!n)
		free(it), *out = NULL;
	return n;
}

/* ---- text -------------------------------------------------------------- */

/* XML text or attribute value: the markup characters as entities; control
 * bytes, DEL, C1 controls and bytes that are not UTF-8 (XML 1.0 cannot
 * carry them) as \ooo octal, as /proc writes a newline; anything else as
 * it is, so a title holds the /proc line itself. */
static void xml_put(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		const unsigned char *u = (const unsigned char *)s + i;
		size_t k = tv_utf8_len(u, len - i);

		if (k == 1) {
			switch (u[0]) {
			case '&': fputs("&amp;", f); break;
			case '<': fputs("&lt;", f); break;
			case '>': fputs("&gt;", f); break;
			case '"': fputs("&quot;", f); break;
			case '\'': fputs("&apos;", f); break;
			default:
				if (u[0] < 0x20 || u[0] == 0x7f)
					fprintf(f, "\\%03o", u[0]);
				else
					fputc(u[0], f);
			}
		} else if (k > 1 && !(u[0] == 0xc2 && u[1] < 0xa0)) {
			fwrite(u, 1, k, f);
		} else {
			if (!k)
				k = 1;
			for (size_t j = 0; j < k; j++)
				fprintf(f, "\\%03o", u[j]);
		}
		i += k;
	}
}

static void xml_puts(FILE *f, const char *s)
{
	xml_put(f, s, strlen(s));
}

/* ---- colours ----------------------------------------------------------- */

enum { SH_X, SH_W, SH_R, SH_N };	/* shades: exec, write, read, none */
static const char *const colours[6][4] = {
	[TASKVMA_KIND_ANON] = { "#b07d00", "#6aa84f", "#a8d08d", "#e2eedb" },
	[TASKVMA_KIND_FILE] = { "#1f4e9e", "#5b8fd9", "#9dbce8", "#dde6f2" },
	[TASKVMA_KIND_HEAP] = { "#a0321e", "#e69138", "#f6c26b", "#fbe3c0" },
	[TASKVMA_KIND_STACK] = { "#8b0000", "#cc4125", "#e6a08f", "#f4d0c8" },
	[TASKVMA_KIND_SPECIAL] = { "#4b2d8f", "#8e7cc3", "#b4a7d6", "#e0dbf0" },
	[TASKVMA_KIND_ANON_NAMED] = { "#0b6e69", "#45a5a0", "#8fcfcb", "#d5eeec" },
};
static const char *const shade_names[4] = { "executable", "writable", "read-only", "no access" };

static int shade(uint32_t perms)
{
	if (perms & TASKVMA_PERM_EXEC)
		return SH_X;
	if (perms & TASKVMA_PERM_WRITE)
		return SH_W;
	if (perms & TASKVMA_PERM_READ)
		return SH_R;
	return SH_N;
}

static const char *colour(const struct taskvma_vma *v)
{
	return colours[v->kind < 6 ? v->kind : TASKVMA_KIND_ANON][shade(v->perms)];
}

static bool marked(const struct taskvma_vma *v)
{
	return v->kind == TASKVMA_KIND_HEAP || v->kind == TASKVMA_KIND_STACK ||
	       v->kind == TASKVMA_KIND_SPECIAL;
}

/* one mapping: <rect ...><title>/proc line</title></rect> */
static void put_rect(FILE *f, pid_t pid, const struct taskvma_vma *v, double x, double y, double w,
		     double h)
{
	char line[512], perms[5], *big = NULL;
	size_t n = taskvma_format_maps_line(v, line, sizeof(line));
	const char *text = line;

	if (n >= sizeof(line)) {
		/* a long name; out of memory, the title stays empty */
		if ((big = malloc(n + 1)))
			taskvma_format_maps_line(v, big, n + 1);
		text = big;
		n = big ? n : 0;
	}
	taskvma_format_perms(v->perms, perms);
	fprintf(f,
		"<rect class=\"vma\" data-pid=\"%d\" data-start=\"0x%llx\" data-end=\"0x%llx\" "
		"data-size=\"%llu\" data-perms=\"%s\" data-kind=\"%s\" x=\"%.2f\" y=\"%.2f\" "
		"width=\"%.2f\" height=\"%.2f\" fill=\"%s\" stroke=\"%s\" stroke-width=\"%s\"%s>"
		"<title>",
		(int)pid, (unsigned long long)v->start, (unsigned long long)v->end,
		(unsigned long long)(v->end - v->start), perms,
		taskvma_kind_name((enum taskvma_kind)v->kind), x, y, w, h, colour(v),
		marked(v) ? "#000" : "#fff", marked(v) ? "1.2" : "0.5",
		v->perms & TASKVMA_PERM_SHARED ? " stroke-dasharray=\"4 2\"" : "");
	if (n && text[n - 1] == '\n')
		n--;	/* the line without its newline */
	xml_put(f, text ? text : "", n);
	fputs("</title></rect>\n", f);
	free(big);
}

static void legend(FILE *f, double x, double y)
{
	static const enum taskvma_kind order[] = { TASKVMA_KIND_FILE, TASKVMA_KIND_ANON,
						   TASKVMA_KIND_HEAP, TASKVMA_KIND_STACK,
						   TASKVMA_KIND_SPECIAL, TASKVMA_KIND_ANON_NAMED };

	fprintf(f, "<g class=\"legend\" font-family=\"sans-serif\" font-size=\"10\">\n");
	for (size_t i = 0; i < 6; i++) {
		double lx = x + (double)i * 105;

		for (int s = 0; s < 4; s++)
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"12\" fill=\"%s\"/>",
				lx + s * 9, y, colours[order[i]][s]);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", lx + 40, y + 10,
			taskvma_kind_name(order[i]));
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">shades: %s, %s, %s, %s</text>\n", x, y + 26,
		shade_names[0], shade_names[1], shade_names[2], shade_names[3]);
	fprintf(f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"10\" fill=\"#fff\" stroke=\"#555\" "
		"stroke-dasharray=\"4 2\"/><text x=\"%.1f\" y=\"%.1f\">shared</text>\n",
		x + 330, y + 17, x + 356, y + 26);
	fprintf(f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"10\" fill=\"#fff\" stroke=\"#000\" "
		"stroke-width=\"1.2\"/><text x=\"%.1f\" y=\"%.1f\">heap, stack, special</text>\n",
		x + 400, y + 17, x + 426, y + 26);
	fprintf(f,
		"<path d=\"M%.1f %.1f l5 -5 l5 10 l5 -10 l5 5\" fill=\"none\" stroke=\"#888\"/>"
		"<text x=\"%.1f\" y=\"%.1f\">gap not to scale</text>\n",
		x + 540, y + 22, x + 566, y + 26);
	fputs("</g>\n", f);
}

/* A label for the mappings [first, last] of one name: the base name of a
 * file, else the bracketed name, and the size of them together. */
static void label_text(const struct svg_proc *p, size_t first, size_t last, char *buf, size_t len)
{
	const struct taskvma_vma *v = &p->vmas[first];
	const char *name = v->name, *slash;
	size_t nlen = v->name_len;
	uint64_t bytes = 0;
	char size[32];

	for (size_t i = first; i <= last; i++)
		bytes += p->vmas[i].end - p->vmas[i].start;
	if (v->kind == TASKVMA_KIND_FILE && (slash = memrchr(name, '/', nlen)) && slash[1]) {
		nlen -= (size_t)(slash + 1 - name);
		name = slash + 1;
	}
	if (!nlen) {
		name = "anon";
		nlen = 4;
	}
	if (nlen > 48)
		nlen = 48;
	taskvma_format_size(bytes, TASKVMA_SIZE_HUMAN, size, sizeof(size));
	snprintf(buf, len, "%.*s  %s", (int)nlen, name, size);
}

/* One process, upwards. */
static void draw_one(FILE *f, const struct svg_proc *p, const struct item *it, size_t n, double top,
		     double width)
{
	const double ax = 8, bx = 150, bw = 170, lx = bx + bw + 30;
	double y = top, last_label = -1e9;
	char buf[96], comm[TASKVMA_COMM_ESC_MAX];

	(void)width;
	taskvma_escape_comm(p->comm, comm, sizeof(comm));
	fprintf(f, "<g class=\"process\" data-pid=\"%d\" font-family=\"monospace\" font-size=\"10\">\n",
		(int)p->pid);
	/* from the top: the highest address first */
	for (size_t k = n; k-- > 0;) {
		const struct item *t = &it[k];
		double h = t->len;

		if (t->type == IT_CUT) {
			/* its words take a place among the labels */
			double ly = y + h / 2 + 3.5;

			if (ly < last_label + 12)
				ly = last_label + 12;
			last_label = ly;
			taskvma_format_size(t->hi - t->lo, TASKVMA_SIZE_HUMAN, buf, sizeof(buf));
			fprintf(f,
				"<g class=\"gap\" data-start=\"0x%llx\" data-end=\"0x%llx\">"
				"<path d=\"M%.1f %.2f l10 -5 l10 10 l10 -10 l10 10 l10 -10 l10 10 l10 -10 "
				"l10 10 l10 -10 l10 10 l10 -10 l10 10 l10 -10 l10 10 l10 -10 l10 10 l10 -5\" "
				"transform=\"translate(0 %.2f)\" fill=\"none\" stroke=\"#888\"/>"
				"<text x=\"%.1f\" y=\"%.2f\" fill=\"#555\" font-family=\"sans-serif\">"
				"%s unmapped (not to scale)</text></g>\n",
				(unsigned long long)t->lo, (unsigned long long)t->hi, bx, y, h / 2, lx,
				ly, buf);
		} else if (t->type == IT_VMA) {
			const struct taskvma_vma *v = &p->vmas[t->idx];
			bool seg_top = k + 1 == n || it[k + 1].type == IT_CUT;
			bool seg_bot = k == 0 || it[k - 1].type == IT_CUT;

			put_rect(f, p->pid, v, bx, y, bw, h);
			if (seg_top)
				fprintf(f, "<text class=\"addr\" x=\"%.1f\" y=\"%.2f\">0x%llx</text>\n", ax,
					y + 7, (unsigned long long)v->end);
			if (seg_bot)
				fprintf(f, "<text class=\"addr\" x=\"%.1f\" y=\"%.2f\">0x%llx</text>\n", ax,
					y + h, (unsigned long long)p->vmas[it[k].idx].start);
			/* a label for this run of one name, at its first (top) mapping */
			if (k + 1 == n || it[k + 1].type != IT_VMA ||
			    p->vmas[it[k + 1].idx].name_len != v->name_len ||
			    memcmp(p->vmas[it[k + 1].idx].name, v->name, v->name_len)) {
				size_t first = k;	/* the run: items first..k, top to bottom */
				double run_h = h, centre, ly;

				while (first > 0 && it[first - 1].type == IT_VMA &&
				       p->vmas[it[first - 1].idx].name_len == v->name_len &&
				       !memcmp(p->vmas[it[first - 1].idx].name, v->name, v->name_len)) {
					first--;
					run_h += it[first].len;
				}
				centre = y + run_h / 2 + 3.5;
				ly = centre > last_label + 12 ? centre : last_label + 12;
				if ((v->name_len || run_h >= 12) && (ly - centre <= 36 || marked(v))) {
					label_text(p, it[first].idx, t->idx, buf, sizeof(buf));
					if (ly - centre > 2)
						fprintf(f,
							"<path d=\"M%.1f %.2f L%.1f %.2f\" stroke=\"#999\" "
							"stroke-width=\"0.6\" fill=\"none\"/>",
							bx + bw, centre - 3.5, lx - 3, ly - 3.5);
					/* preserve: two spaces in a name stay two */
					fprintf(f, "<text class=\"label\" xml:space=\"preserve\" "
						"x=\"%.1f\" y=\"%.2f\"%s>", lx, ly,
						marked(v) ? " font-weight=\"bold\"" : "");
					xml_puts(f, buf);
					fputs("</text>\n", f);
					last_label = ly;
				}
			}
		}
		y += h;
	}
	fputs("</g>\n", f);
}

/* Several processes: one row each, squeezed to the width. */
static void draw_row(FILE *f, const struct svg_proc *p, const struct item *it, size_t n, double total,
		     double y, double width)
{
	const double bx = 200, bw = width - bx - 10, h = 14;
	double s = total > 0 ? bw / total : 0, x = bx;
	char label[TASKVMA_COMM_ESC_MAX + 16], comm[TASKVMA_COMM_ESC_MAX];

	taskvma_escape_comm(p->comm, comm, sizeof(comm));
	snprintf(label, sizeof(label), "%d %s", (int)p->pid, comm);
	fprintf(f, "<g class=\"process\" data-pid=\"%d\"><text x=\"8\" y=\"%.1f\" font-family=\"monospace\" "
		"font-size=\"10\">", (int)p->pid, y + 10.5);
	xml_puts(f, label);
	fputs("</text>\n", f);
	for (size_t k = 0; k < n; k++) {
		double w = it[k].len * s;

		if (it[k].type == IT_VMA)
			put_rect(f, p->pid, &p->vmas[it[k].idx], x, y, w > 0.3 ? w : 0.3, h);
		else if (it[k].type == IT_CUT)
			fprintf(f,
				"<path class=\"gap\" data-start=\"0x%llx\" data-end=\"0x%llx\" "
				"d=\"M%.2f %.1f l%.2f %.1f l%.2f %.1f\" fill=\"none\" stroke=\"#888\"/>\n",
				(unsigned long long)it[k].lo, (unsigned long long)it[k].hi, x, y + h, w / 2,
				-h, w / 2, h);
		x += w;
	}
	fputs("</g>\n", f);
}

int taskvma_svg_write(struct taskvma_svg *svg, FILE *f)
{
	bool overview;
	double width, height, top = 74, y;
	struct item **items;
	double *totals;
	size_t *counts;
	int err = 0;
	char comm[TASKVMA_COMM_ESC_MAX];

	if (!svg || !f)
		return -EINVAL;
	overview = svg->overview || svg->nprocs != 1;
	width = svg->width ? svg->width : overview ? 1000 : 760;
	if (width < 700)
		width = 700;	/* the legend's width */
	items = calloc(svg->nprocs + 1, sizeof(*items));
	totals = calloc(svg->nprocs + 1, sizeof(*totals));
	counts = calloc(svg->nprocs + 1, sizeof(*counts));
	if (!items || !totals || !counts) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < svg->nprocs; i++) {
		counts[i] = layout(&svg->procs[i], &items[i], &totals[i]);
		if (!counts[i] && svg->procs[i].n) {
			err = -ENOMEM;
			goto out;
		}
	}
	height = overview ? top + 20.0 * (double)svg->nprocs + 10 : top + totals[0] + 20;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
		   "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n"
		   "<text x=\"8\" y=\"20\" font-family=\"sans-serif\" font-size=\"14\" font-weight=\"bold\">",
		width, height + 1, width, height + 1);
	if (overview) {
		fprintf(f, "address spaces of %zu process%s (one row each; gaps not to scale)",
			svg->nprocs, svg->nprocs == 1 ? "" : "es");
	} else {
		taskvma_escape_comm(svg->procs[0].comm, comm, sizeof(comm));
		fprintf(f, "address space of %d (", (int)svg->procs[0].pid);
		xml_puts(f, comm);
		fprintf(f, "): %zu mappings, low addresses at the bottom", svg->procs[0].n);
	}
	fputs("</text>\n", f);
	legend(f, 8, 32);
	y = top;
	for (size_t i = 0; i < svg->nprocs; i++) {
		if (overview) {
			draw_row(f, &svg->procs[i], items[i], counts[i], totals[i], y, width);
			y += 20;
		} else {
			draw_one(f, &svg->procs[i], items[i], counts[i], y, width);
		}
	}
	fputs("</svg>\n", f);
	errno = 0;
	if (fflush(f) || ferror(f))
		err = -(errno ? errno : EIO);
out:
	for (size_t i = 0; items && i < svg->nprocs; i++)
		free(items[i]);
	free(items);
	free(totals);
	free(counts);
	return err;
}
