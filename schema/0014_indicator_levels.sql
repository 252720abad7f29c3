-- Figures at every level, and the dossier's comparison of figures with
-- stories.
--
-- CBS publishes some figures only per buurt (registered crimes, the
-- 85984NED population extract), so a wijk or the gemeente had none. An
-- indicator now says how its figures add up: counts are summed from the
-- buurten, a rate is recomputed as scale x numerator / denominator from
-- two other indicators, anything else (averages, distances, shares of an
-- unknown base) is not aggregated. Derived values live in their own
-- table, so that indicator_value keeps exactly what the files said, and
-- say how they were made (derivation 'sum' or 'ratio') and from how many
-- buurten. One is made only where the area has no figure of its own, and
-- a sum only when every buurt of the area has a figure for the period: a
-- sum over some buurten would pass for a total and be too low.
ALTER TABLE indicator
	ADD COLUMN aggregate text NOT NULL DEFAULT 'none'
	    CHECK (aggregate IN ('sum', 'ratio', 'none')),
	ADD COLUMN numerator_key text,
	ADD COLUMN denominator_key text,
	ADD COLUMN scale numeric,
	ADD CONSTRAINT indicator_ratio_check CHECK (aggregate <> 'ratio' OR
	    (numerator_key IS NOT NULL AND denominator_key IS NOT NULL AND
	     scale > 0));

CREATE TABLE indicator_derived (
	indicator_id	bigint NOT NULL REFERENCES indicator ON DELETE CASCADE,
	area_code	text NOT NULL REFERENCES area (code),
	period_type	text NOT NULL,
	period		text NOT NULL,
	period_start	date,
	value		numeric NOT NULL,
	derivation	text NOT NULL CHECK (derivation IN ('sum', 'ratio')),
	derived_from	integer CHECK (derived_from > 0),	-- buurten
	source_file	text NOT NULL,		-- of the buurt figures
	derived_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (indicator_id, area_code, period)
);

-- Every figure as readers see it: the source's own (a number, or its
-- "missing" marker when nothing was derived in its place), else the
-- derived one.
CREATE VIEW indicator_figure AS
SELECT v.indicator_id, v.area_code, v.period_type, v.period, v.period_start,
    v.value, v.source_file, NULL::text AS derivation,
    NULL::integer AS derived_from
  FROM indicator_value v
 WHERE v.value IS NOT NULL OR NOT EXISTS (SELECT 1 FROM indicator_derived d
     WHERE d.indicator_id = v.indicator_id AND d.area_code = v.area_code
       AND d.period = v.period)
UNION ALL
SELECT d.indicator_id, d.area_code, d.period_type, d.period, d.period_start,
    d.value, d.source_file, d.derivation, d.derived_from
  FROM indicator_derived d
 WHERE NOT EXISTS (SELECT 1 FROM indicator_value v
     WHERE v.indicator_id = d.indicator_id AND v.area_code = d.area_code
       AND v.period = d.period AND v.value IS NOT NULL);

-- Recomputes every derived value (inside the importer's transaction,
-- after each file). Returns how many values it derived.
CREATE FUNCTION vh_indicator_aggregate() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	sums integer;
	ratios integer;
BEGIN
	DELETE FROM indicator_derived;
	-- Each buurt counts towards its wijk and its gemeente.
	WITH up AS (
		SELECT code AS buurt, parent AS area FROM area WHERE level = 'buurt'
		UNION ALL
		SELECT b.code, w.parent FROM area b JOIN area w ON w.code = b.parent
		 WHERE b.level = 'buurt'),
	nb AS (SELECT area, count(*) AS n FROM up GROUP BY 1),
	v AS (SELECT iv.indicator_id, up.area, iv.period_type, iv.period,
		min(iv.period_start) AS period_start, sum(iv.value) AS value,
		count(*) AS n, min(iv.source_file) AS source_file
		FROM indicator_value iv
		JOIN indicator i ON i.id = iv.indicator_id AND i.aggregate = 'sum'
		JOIN up ON up.buurt = iv.area_code
		WHERE iv.value IS NOT NULL
		GROUP BY 1, 2, 3, 4)
	INSERT INTO indicator_derived (indicator_id, area_code, period_type,
	    period, period_start, value, source_file, derivation, derived_from)
	SELECT v.indicator_id, v.area, v.period_type, v.period, v.period_start,
	    v.value, v.source_file, 'sum', v.n
	  FROM v JOIN nb ON nb.area = v.area AND nb.n = v.n
	 WHERE NOT EXISTS (SELECT 1 FROM indicator_value o
	     WHERE o.indicator_id = v.indicator_id AND o.area_code = v.area
	       AND o.period = v.period AND o.value IS NOT NULL);
	GET DIAGNOSTICS sums = ROW_COUNT;
	-- Rates of wijken and the gemeente from their (own or summed)
	-- numerator and denominator, for periods in which the source
	-- publishes the rate at all.
	WITH r AS (SELECT r.id, r.scale, n.id AS nid, d.id AS did FROM indicator r
		JOIN indicator n ON n.key = r.numerator_key
		JOIN indicator d ON d.key = r.denominator_key
		WHERE r.aggregate = 'ratio'),
	x AS (SELECT r.id, nv.area_code, nv.period_type, nv.period,
		nv.period_start, round(r.scale * nv.value / dv.value, 1) AS value,
		nv.source_file, greatest(nv.derived_from, dv.derived_from,
		    (SELECT count(*) FROM area b WHERE b.level = 'buurt' AND
		     (b.parent = nv.area_code OR 'GM' || substr(b.code, 3, 4) =
		      nv.area_code)))::int AS n
		FROM r
		JOIN indicator_figure nv ON nv.indicator_id = r.nid
		JOIN indicator_figure dv ON dv.indicator_id = r.did
		 AND dv.area_code = nv.area_code AND dv.period = nv.period
		WHERE nv.value IS NOT NULL AND dv.value > 0
		  AND nv.area_code NOT LIKE 'BU%'
		  AND EXISTS (SELECT 1 FROM indicator_value p
		      WHERE p.indicator_id = r.id AND p.period = nv.period
		      AND p.value IS NOT NULL)
		  AND NOT EXISTS (SELECT 1 FROM indicator_value o
		      WHERE o.indicator_id = r.id AND o.area_code = nv.area_code
		      AND o.period = nv.period AND o.value IS NOT NULL))
	INSERT INTO indicator_derived (indicator_id, area_code, period_type,
	    period, period_start, value, source_file, derivation, derived_from)
	SELECT id, area_code, period_type, period, period_start, value,
	    source_file, 'ratio', nullif(n, 0) FROM x;
	GET DIAGNOSTICS ratios = ROW_COUNT;
	RETURN sums + ratios;
END $$;

-- What a theme's stories are compared with, besides theme.indicator_key
-- (tried first): registered counts in order of preference, each divided
-- by the first residents figure (per_keys) the area has for that year,
-- per `per` residents. The defaults fall back from a crime type to all
-- registered crimes, the figure the CBS files in use do carry.
CREATE TABLE theme_comparison (
	theme		text NOT NULL REFERENCES theme (slug)
			    ON DELETE CASCADE ON UPDATE CASCADE,
	position	integer NOT NULL DEFAULT 1,
	indicator_key	text NOT NULL,
	per_keys	text[] NOT NULL
			    DEFAULT '{kwb/a_inw,85984NED/population}',
	per		numeric NOT NULL DEFAULT 1000 CHECK (per > 0),
	PRIMARY KEY (theme, position)
);
INSERT INTO theme_comparison (theme, indicator_key)
SELECT slug, '47018NED/GeregistreerdeMisdrijven_1/0.0.0' FROM theme
 WHERE slug IN ('veiligheidsgevoel', 'woninginbraak', 'autokraak',
    'fietsendiefstal', 'overlast-en-leefbaarheid', 'ondermijning', 'geweld');

-- Stories of an area per theme and year in [y0, y1] as
-- {"theme": {"year": n}}, theme "" for all stories (vh_dossier_counts).
CREATE FUNCTION vh_dossier_story_years(code text, role text, y0 int, y1 int)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	r jsonb;
BEGIN
	EXECUTE format($q$
	SELECT coalesce(jsonb_object_agg(theme, ys), '{}') FROM (
		SELECT theme, jsonb_object_agg(y, n) AS ys FROM (
			SELECT c.theme, extract(year FROM c.month)::int AS y,
			    sum(n)::bigint AS n FROM %1$s c
			 WHERE c.month >= make_date(%2$s, 1, 1)
			   AND c.month < make_date(%3$s + 1, 1, 1)
			 GROUP BY 1, 2) x GROUP BY 1) t
	$q$, vh_dossier_counts(code, role), y0, y1) INTO r;
	RETURN r;
END $$;

-- A figure of one area and year: the count, the residents it is divided
-- by (the first of per_keys with a figure that year, else the year
-- before or after) and the rate; NULL when the area has no count.
CREATE FUNCTION vh_dossier_figure(key text, area_code text, y int,
    per_keys text[], per numeric) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('area', iv.area_code, 'year', y,
	    'count', iv.value, 'residents', res.value, 'residents_key', res.key,
	    'residents_year', res.y,
	    'rate', round(iv.value * per / res.value, 1),
	    'derived', CASE WHEN iv.derivation IS NOT NULL THEN
		jsonb_build_object('method', iv.derivation,
		    'buurten', iv.derived_from) END)
	  FROM indicator i
	  JOIN indicator_figure iv ON iv.indicator_id = i.id
	   AND iv.area_code = vh_dossier_figure.area_code
	   AND iv.period_type = 'year' AND iv.period = y::text
	   AND iv.value IS NOT NULL
	  LEFT JOIN LATERAL (
		SELECT rv.value, ri.key, rv.period::int AS y
		  FROM unnest(per_keys) WITH ORDINALITY pk(key, o)
		  JOIN indicator ri ON ri.key = pk.key
		  JOIN indicator_figure rv ON rv.indicator_id = ri.id
		   AND rv.area_code = iv.area_code AND rv.period_type = 'year'
		   AND rv.value > 0
		   AND rv.period IN (y::text, (y - 1)::text, (y + 1)::text)
		 ORDER BY abs(rv.period::int - y), pk.o LIMIT 1) res ON true
	 WHERE i.key = vh_dossier_figure.key
$$;

CREATE FUNCTION vh_pct(x numeric) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN x >= 0 THEN '+' ELSE '' END || round(100 * x) || '%'
$$;

-- The comparison of one area's figures with its stories (docs/api.md,
-- "The comparison"). Per theme, the first candidate figure (the theme's
-- indicator_key, then theme_comparison by position) that the area has
-- for a year in [y0, y1]:
--  * "trend": two or more years with a figure per 1,000 residents; its
--    change from the first to the last of those years against the change
--    of the share of the area's stories that are about the theme;
--  * "level": one year; the area's figure per 1,000 residents against
--    its parent area's (buurt: its wijk; wijk: the gemeente) that year,
--    against the theme's share of the stories of the whole window here
--    and in the parent area;
--  * "count": no residents figure; the registered count's change against
--    the change of the number of stories about the theme;
--  * "figure": one year and nothing to hold it against.
-- Changes are relative ((b - a) / a). Figures and stories diverge when
-- the changes have opposite signs and both are at least 10 %. A share or
-- a story count is used only when the stories behind it are at least k
-- (or none about the theme), so no count below k can be read back.
CREATE FUNCTION vh_dossier_comparison(f jsonb, y0 int, y1 int)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	ac text := f->>'code';
	k int := coalesce((f->>'k')::int, 5);
	par text;
	parname text;
	lvl text;
	st jsonb;
	pst jsonb;
	c record;
	ya int;
	yb int;
	fa jsonb;
	fb jsonb;
	fp jsonb;
	ia numeric;
	ib numeric;
	ic numeric;
	sa numeric;
	sb numeric;
	ta numeric;
	tb numeric;
	sc numeric;
	ha numeric;
	hb numeric;
	mode text;
	unit text;
	words text;
	item jsonb;
	figs jsonb;
	out jsonb := '[]';
BEGIN
	SELECT a.parent, p.name, a.level INTO par, parname, lvl
	  FROM area a LEFT JOIN area p ON p.code = a.parent WHERE a.code = ac;
	FOR c IN
		WITH cand AS (
			SELECT t.slug, t.title, 0 AS pos, t.indicator_key AS key,
			    '{kwb/a_inw,85984NED/population}'::text[] AS per_keys,
			    1000::numeric AS per
			  FROM theme t WHERE t.indicator_key IS NOT NULL
			UNION ALL
			SELECT t.slug, t.title, tc.position, tc.indicator_key,
			    tc.per_keys, tc.per
			  FROM theme_comparison tc JOIN theme t ON t.slug = tc.theme)
		SELECT DISTINCT ON (cand.slug) cand.*, i.title AS ititle,
		    min(iv.period::int) OVER w AS ya, max(iv.period::int) OVER w AS yb
		  FROM cand JOIN indicator i ON i.key = cand.key
		  JOIN indicator_figure iv ON iv.indicator_id = i.id
		   AND iv.area_code = ac AND iv.period_type = 'year'
		   AND iv.value IS NOT NULL AND iv.period ~ '^\d{4}$'
		   AND iv.period::int BETWEEN y0 AND y1
		WINDOW w AS (PARTITION BY cand.slug, cand.pos)
		 ORDER BY cand.slug, cand.pos
	LOOP
		-- Stories are counted once, and only when there is a figure.
		IF st IS NULL THEN
			st := vh_dossier_story_years(ac, f->>'role', y0, y1);
			pst := CASE WHEN par IS NOT NULL THEN
			    vh_dossier_story_years(par, f->>'role', y0, y1) END;
		END IF;
		ya := c.ya;
		yb := c.yb;
		fa := vh_dossier_figure(c.key, ac, ya, c.per_keys, c.per);
		fb := vh_dossier_figure(c.key, ac, yb, c.per_keys, c.per);
		fp := NULL;
		ic := NULL;
		sc := NULL;
		ha := NULL;
		hb := NULL;
		IF ya < yb AND fa->'rate' <> 'null' AND fb->'rate' <> 'null' THEN
			mode := 'trend';
			ia := (fa->>'rate')::numeric;
			ib := (fb->>'rate')::numeric;
			sa := coalesce((st->c.slug->>ya::text)::numeric, 0);
			sb := coalesce((st->c.slug->>yb::text)::numeric, 0);
			ta := coalesce((st->''->>ya::text)::numeric, 0);
			tb := coalesce((st->''->>yb::text)::numeric, 0);
		ELSIF ya < yb THEN
			mode := 'count';
			ia := (fa->>'count')::numeric;
			ib := (fb->>'count')::numeric;
			sa := coalesce((st->c.slug->>ya::text)::numeric, 0);
			sb := coalesce((st->c.slug->>yb::text)::numeric, 0);
		ELSE
			fp := CASE WHEN par IS NOT NULL THEN
			    vh_dossier_figure(c.key, par, yb, c.per_keys, c.per) END;
			IF fa->'rate' <> 'null' AND fp->'rate' <> 'null' THEN
				mode := 'level';
				ia := (fp->>'rate')::numeric;
				ib := (fa->>'rate')::numeric;
				sa := (SELECT coalesce(sum(value::numeric), 0)
				    FROM jsonb_each_text(coalesce(pst->c.slug, '{}')));
				ta := (SELECT coalesce(sum(value::numeric), 0)
				    FROM jsonb_each_text(coalesce(pst->'', '{}')));
				sb := (SELECT coalesce(sum(value::numeric), 0)
				    FROM jsonb_each_text(coalesce(st->c.slug, '{}')));
				tb := (SELECT coalesce(sum(value::numeric), 0)
				    FROM jsonb_each_text(coalesce(st->'', '{}')));
			ELSE
				mode := 'figure';
			END IF;
		END IF;
		IF mode <> 'figure' AND ia > 0 THEN
			ic := (ib - ia) / ia;
		END IF;
		IF mode = 'count' THEN
			IF sa >= k AND sb >= k THEN
				sc := (sb - sa) / sa;
			END IF;
		ELSIF mode IN ('trend', 'level') AND ta >= k AND tb >= k AND
		    (sa = 0 OR sa >= k) AND (sb = 0 OR sb >= k) THEN
			ha := sa / ta;
			hb := sb / tb;
			IF ha > 0 THEN
				sc := (hb - ha) / ha;
			END IF;
		END IF;
		unit := CASE WHEN mode IN ('trend', 'level') OR fa->'rate' <> 'null'
		    THEN 'per ' || to_char(c.per, 'FM999G999') || ' residents'
		    ELSE 'registered' END;
		words := CASE mode
		    WHEN 'trend' THEN format('%s %s went from %s in %s to %s in %s'
			' (%s); ', c.ititle, unit, ia, ya, ib, yb, vh_pct(ic)) ||
			CASE WHEN sc IS NOT NULL THEN format('the share of this %s''s '
			    'stories about %s went from %s%% to %s%% (%s).', lvl,
			    c.title, round(100 * ha), round(100 * hb), vh_pct(sc))
			ELSE format('too few stories in %s and %s to compare the '
			    'share about %s.', ya, yb, c.title) END
		    WHEN 'count' THEN format('%s: %s registered in %s, %s in %s'
			' (%s; no residents figure, so counts are compared); ',
			c.ititle, ia, ya, ib, yb, vh_pct(ic)) ||
			CASE WHEN sc IS NOT NULL THEN format('stories about %s: %s'
			    ' then, %s now (%s).', c.title, sa, sb, vh_pct(sc))
			ELSE format('fewer than %s stories about %s in %s or %s.',
			    k, c.title, ya, yb) END
		    WHEN 'level' THEN format('In %s this %s had %s %s %s against '
			'%s in %s (%s); ', yb, lvl, ib, c.ititle, unit, ia, parname,
			vh_pct(ic)) ||
			CASE WHEN sc IS NOT NULL THEN format('%s%% of its stories '
			    'from %s to %s are about %s against %s%% in %s (%s).',
			    round(100 * hb), y0, y1, c.title, round(100 * ha),
			    parname, vh_pct(sc))
			WHEN ha = 0 AND hb IS NOT NULL THEN format('%s%% of its '
			    'stories from %s to %s are about %s and none in %s.',
			    round(100 * hb), y0, y1, c.title, parname)
			ELSE format('too few stories from %s to %s here or in %s to '
			    'compare the share about %s.', y0, y1, parname, c.title) END
		    ELSE format('%s: %s %s in %s; with one year of figures and %s '
			'there is nothing to compare it with.', c.ititle,
			coalesce(fa->>'rate', fa->>'count'), unit, yb,
			CASE WHEN par IS NULL THEN 'no larger area'
			ELSE 'no figure for ' || parname END) END;
		words := replace(words, '  ', ' ');
		figs := CASE WHEN mode = 'level' THEN jsonb_build_array(fp, fa)
		    WHEN ya < yb THEN jsonb_build_array(fa, fb)
		    ELSE jsonb_build_array(fa) END;
		item := jsonb_build_object('theme', c.slug, 'title', c.title,
		    'indicator', c.key, 'indicator_title', c.ititle,
		    'mode', mode, 'unit', unit, 'from', ya, 'to', yb,
		    'compared_with', CASE WHEN mode = 'level' THEN par END,
		    'figures', figs,
		    'indicator_change', round(ic, 3),
		    'stories', CASE WHEN mode = 'figure' THEN '[]'::jsonb ELSE
			jsonb_build_array(vh_k(sa::bigint, k), vh_k(sb::bigint, k)) END,
		    'story_totals', CASE WHEN mode IN ('trend', 'level') THEN
			jsonb_build_array(vh_k(ta::bigint, k), vh_k(tb::bigint, k)) END,
		    'story_shares', CASE WHEN ha IS NOT NULL THEN
			jsonb_build_array(round(ha, 3), round(hb, 3)) END,
		    'stories_change', round(sc, 3),
		    'diverging', coalesce(sign(ic) * sign(sc) < 0 AND
			abs(ic) >= 0.1 AND abs(sc) >= 0.1, false),
		    'note', CASE WHEN mode = 'figure' THEN 'nothing to compare with'
			WHEN ic IS NULL THEN 'no figure to compare with'
			WHEN sc IS NULL THEN 'too few stories to compare'
			WHEN NOT (sign(ic) * sign(sc) < 0 AND abs(ic) >= 0.1 AND
			    abs(sc) >= 0.1) THEN 'figures and stories move together'
			WHEN mode = 'level' THEN CASE WHEN ic > 0 THEN
			    'registered figures are higher than in the parent area '
			    'while stories about the theme are rarer'
			    ELSE 'registered figures are lower than in the parent '
			    'area while stories about the theme are more common' END
			WHEN ic < 0 THEN 'registered figures fall while stories rise'
			ELSE 'registered figures rise while stories fall' END,
		    'statement', words);
		out := out || jsonb_build_array(item);
	END LOOP;
	RETURN out;
END $$;

-- The dossier of 0005, with each figure saying whether it was derived
-- (and from how many buurten), and the comparison above in place of the
-- old divergence, with its rule in words.
CREATE OR REPLACE FUNCTION vh_area_dossier(f jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	code text := f->>'code';
	k int := coalesce((f->>'k')::int, 5);
	y1 int := coalesce(substr(f->>'to', 1, 4)::int,
	    extract(year FROM now())::int);
	y0 int := coalesce(substr(f->>'from', 1, 4)::int, y1 - 9);
	src text := vh_dossier_counts(f->>'code', f->>'role');
	area jsonb;
	series jsonb;
	stories jsonb;
	div jsonb;
	latest jsonb;
BEGIN
	SELECT jsonb_build_object('code', a.code, 'name', a.name, 'level', a.level,
	    'parent', a.parent) INTO area FROM area a WHERE a.code = f->>'code';
	IF area IS NULL THEN
		RETURN NULL;
	END IF;
	-- Series with at least one figure in the window.
	SELECT coalesce(jsonb_agg(jsonb_build_object('key', i.key, 'title',
	    i.title, 'unit', i.unit, 'source', i.source, 'values', v.vals)
	    ORDER BY i.key), '[]') INTO series
	  FROM indicator i JOIN LATERAL (
		SELECT jsonb_agg(jsonb_build_object('period', iv.period,
		    'period_type', iv.period_type, 'value', iv.value)
		    || CASE WHEN iv.derivation IS NOT NULL THEN jsonb_build_object(
			'derived', jsonb_build_object('method', iv.derivation,
			'buurten', iv.derived_from)) ELSE '{}' END
		    ORDER BY iv.period_start, iv.period) AS vals,
		    bool_or(iv.value IS NOT NULL) AS any
		  FROM indicator_figure iv
		 WHERE iv.indicator_id = i.id AND iv.area_code = code
		   AND (iv.period_start IS NULL OR extract(year FROM
		       iv.period_start) BETWEEN y0 AND y1)) v ON v.any;
	-- Per theme and year, zero-filled on the axis.
	EXECUTE format($q$
	WITH y AS (SELECT generate_series(%1$s, %2$s) AS y),
	cnt AS (SELECT c.theme, extract(year FROM c.month)::int AS y,
		sum(n)::bigint AS n FROM %3$s c
		WHERE %4$s AND c.month >= make_date(%1$s, 1, 1)
		AND c.month < make_date(%2$s + 1, 1, 1) GROUP BY 1, 2),
	th AS (SELECT DISTINCT theme FROM cnt WHERE theme <> '' AND n > 0)
	SELECT jsonb_build_object(
	    'themes', (SELECT coalesce(jsonb_agg(jsonb_build_object(
		'theme', th.theme, 'title', t.title, 'counts',
		(SELECT jsonb_agg(vh_k(coalesce(cnt.n, 0), %5$s) ORDER BY y.y)
		   FROM y LEFT JOIN cnt ON cnt.y = y.y AND cnt.theme = th.theme))
		ORDER BY th.theme), '[]') FROM th LEFT JOIN theme t
		ON t.slug = th.theme),
	    'total', (SELECT jsonb_agg(vh_k(coalesce(cnt.n, 0), %5$s) ORDER BY y.y)
		FROM y LEFT JOIN cnt ON cnt.y = y.y AND cnt.theme = ''))
	$q$, y0, y1, src, 'true', k) INTO stories;
	div := vh_dossier_comparison(f, y0, y1);
	latest := vh_search(jsonb_build_object('role', f->>'role', 'account',
	    f->>'account', 'area', code, 'limit', 10, 'facets', false))->'items';
	RETURN jsonb_build_object('area', area, 'from', y0, 'to', y1,
	    'axis', (SELECT jsonb_agg(g::text) FROM generate_series(y0, y1) g),
	    'indicators', series, 'stories', stories, 'divergence', div,
	    'comparison_rule', 'Per theme, registered figures (per 1,000 '
		'residents where a residents figure exists) are compared with '
		'stories (the share of the area''s stories about the theme; '
		'the number of such stories when figures are plain counts). '
		'With two or more years of figures the change from the first '
		'to the last year is compared; with one year the area is '
		'compared with its parent area, its stories over the whole '
		'period with the parent''s. A change is relative; figures and '
		'stories diverge when the changes have opposite signs and '
		'both are at least 10%. Story measures need at least ' || k ||
		' stories behind them.',
	    'latest', latest, 'k', k);
END $$;
