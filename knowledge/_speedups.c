/* Compiled versions of the loops the matcher spends most of its time in, in the order a message meets them:
 *
 *   fold, separate       normalise's first and last steps                     (text.py)
 *   analyse              jieba's dynamic programme, stop words, CJK runs        (text.py: Segmenter)
 *   retrieve             postings summed per entry, the best few kept           (matcher.py)
 *   complete             the rest of common terms' postings added to those few  (matcher.py)
 *   cover                coverage features and each candidate's best phrasing  (matcher.py)
 *   character_shares     keywords and category written partly                   (matcher.py)
 *   group_keys           an index build chunk's (text, term) rows counted       (build.py)
 *
 * Each has a reference version in Python or numpy next to its caller, used when this module was not
 * compiled; tests check both give the same output, scores to the last bit. Nothing here holds state between
 * calls except the folding table, set once at import. Every function holds the GIL throughout, so the
 * matcher stays safe to share between threads.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Basic Multilingual Plane code point -> its fold (0: unchanged). The table is BMP-only by design. */
static Py_UCS4 *fold_table = NULL;

static PyObject *
set_fold_table(PyObject *module, PyObject *mapping)
{
    if (!PyDict_Check(mapping)) {
        PyErr_SetString(PyExc_TypeError, "set_fold_table expects a dict of code point -> code point");
        return NULL;
    }
    Py_UCS4 *table = PyMem_Calloc(0x10000, sizeof(Py_UCS4));
    if (table == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *key, *value;
    Py_ssize_t position = 0;
    while (PyDict_Next(mapping, &position, &key, &value)) {
        long source = PyLong_AsLong(key);
        long target = PyLong_AsLong(value);
        if ((source == -1 || target == -1) && PyErr_Occurred()) {
            PyMem_Free(table);
            return NULL;
        }
        if (source < 0 || source > 0xFFFF || target <= 0 || target > 0x10FFFF) {
            PyMem_Free(table);
            PyErr_Format(PyExc_ValueError, "fold pair out of range: %ld -> %ld", source, target);
            return NULL;
        }
        table[source] = (Py_UCS4)target;
    }
    PyMem_Free(fold_table);
    fold_table = table;
    Py_RETURN_NONE;
}

/* `text` with every character the table maps replaced; the same object when nothing changes. */
static PyObject *
fold(PyObject *module, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "fold expects a str");
        return NULL;
    }
    if (fold_table == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "fold table not set");
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t first = -1;
    Py_UCS4 widest = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 code = PyUnicode_READ(kind, data, i);
        if (code <= 0xFFFF && fold_table[code]) {
            if (first < 0) {
                first = i;
            }
            if (fold_table[code] > widest) {
                widest = fold_table[code];
            }
        }
        else if (code > widest) {
            widest = code;
        }
    }
    if (first < 0) {
        return Py_NewRef(text);
    }
    PyObject *result = PyUnicode_New(length, widest);
    if (result == NULL) {
        return NULL;
    }
    int out_kind = PyUnicode_KIND(result);
    void *out = PyUnicode_DATA(result);
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 code = PyUnicode_READ(kind, data, i);
        if (code <= 0xFFFF && fold_table[code]) {
            code = fold_table[code];
        }
        PyUnicode_WRITE(out_kind, out, i, code);
    }
    return result;
}

/* A character `normalise` keeps: [0-9a-z\u3400-\u4dbf\u4e00-\u9fff]; every other one separates words. */
static int
is_kept(Py_UCS4 code)
{
    return (code >= 'a' && code <= 'z') || (code >= '0' && code <= '9') || (code >= 0x3400 && code <= 0x4DBF) ||
           (code >= 0x4E00 && code <= 0x9FFF);
}

/* separate(text): every run of other characters replaced by one space, none at either end; the last step
 * of `normalise` (text.py's _SEPARATORS.sub(" ", text).strip()). */
static PyObject *
separate(PyObject *module, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "separate expects a str");
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t size = 0;
    Py_UCS4 widest = 0;
    int gap = 0;     /* a separator run is pending between two kept characters */
    int changed = 0; /* some character is not kept */
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 code = PyUnicode_READ(kind, data, i);
        if (is_kept(code)) {
            size += gap + 1;
            gap = 0;
            if (code > widest) {
                widest = code;
            }
        }
        else {
            changed = 1;
            gap = size > 0;
        }
    }
    if (!changed) {
        return Py_NewRef(text);
    }
    PyObject *result = PyUnicode_New(size, widest > ' ' ? widest : ' ');
    if (result == NULL) {
        return NULL;
    }
    int out_kind = PyUnicode_KIND(result);
    void *out = PyUnicode_DATA(result);
    Py_ssize_t written = 0;
    gap = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 code = PyUnicode_READ(kind, data, i);
        if (is_kept(code)) {
            if (gap) {
                PyUnicode_WRITE(out_kind, out, written++, ' ');
                gap = 0;
            }
            PyUnicode_WRITE(out_kind, out, written++, code);
        }
        else if (written) {
            gap = 1;
        }
    }
    return result;
}

/* The segmenter's dictionaries: jieba's shared one, the knowledge base's overlay, log of each count. */
typedef struct {
    PyObject *base, *overlay, *logs;
    double log_total;
} Dictionary;

static int
read_dictionary(PyObject *const *args, Dictionary *dictionary)
{
    dictionary->base = args[0];
    dictionary->overlay = args[1];
    dictionary->logs = args[2];
    if (!PyDict_Check(args[0]) || !PyDict_Check(args[1]) || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "base, overlay and logs must be dicts");
        return -1;
    }
    dictionary->log_total = PyFloat_AsDouble(args[3]);
    if (dictionary->log_total == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    return 0;
}

static int
is_alphanumeric(Py_UCS4 code)
{
    return (code >= 'a' && code <= 'z') || (code >= '0' && code <= '9');
}

/* A character jieba cuts in blocks (its own block pattern on normalised text): [\u4e00-\u9fd5a-z0-9]. */
static int
is_block_character(Py_UCS4 code)
{
    return (code >= 0x4E00 && code <= 0x9FD5) || is_alphanumeric(code);
}

static int
append_substring(PyObject *list, PyObject *text, Py_ssize_t start, Py_ssize_t stop)
{
    PyObject *token = PyUnicode_Substring(text, start, stop);
    if (token == NULL) {
        return -1;
    }
    int failed = PyList_Append(list, token);
    Py_DECREF(token);
    return failed;
}

/* The count of `fragment` as Segmenter._cut reads it: *count is NULL when no dictionary word goes on with
 * it, Py_None-free otherwise (possibly 0, a mere prefix). Returns -1 on error. */
static int
fragment_count(const Dictionary *dictionary, PyObject *fragment, PyObject **count)
{
    PyObject *found = PyDict_GetItemWithError(dictionary->base, fragment);
    if (found == NULL && PyErr_Occurred()) {
        return -1;
    }
    if (found != NULL) {
        int truthy = PyObject_IsTrue(found);
        if (truthy < 0) {
            return -1;
        }
        if (truthy) {
            *count = found;
            return 0;
        }
    }
    /* The overlay holds only what the base lacks or knows as a mere prefix. */
    PyObject *added = PyDict_GetItemWithError(dictionary->overlay, fragment);
    if (added == NULL && PyErr_Occurred()) {
        return -1;
    }
    *count = added != NULL ? added : found;
    if (*count == Py_None) {
        *count = NULL;
    }
    return 0;
}

/* jieba's cut(HMM=False) of text[from:to], a block, appended to `tokens`.
 *
 * The same dynamic programme as Segmenter._cut in text.py, step for step: for each start (right to
 * left) every dictionary word beginning there scores log(count) - log(total) plus the best score after it,
 * ties going to the longer word; a fragment neither dictionary knows ends the scan; a character no word
 * starts with stands alone at count 1. Single letters or digits in a row are glued back together.
 */
static int
cut_block(const Dictionary *dictionary, PyObject *text, Py_ssize_t from, Py_ssize_t to, PyObject *tokens)
{
    Py_ssize_t length = to - from;
    double *score = PyMem_Malloc((length + 1) * sizeof(double));
    Py_ssize_t *ends = PyMem_Malloc((length + 1) * sizeof(Py_ssize_t));
    int status = -1;
    if (score == NULL || ends == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    score[length] = 0.0;
    for (Py_ssize_t start = length - 1; start >= 0; start--) {
        double best = -INFINITY;
        Py_ssize_t best_end = 0;
        for (Py_ssize_t stop = start + 1; stop <= length; stop++) {
            PyObject *fragment = PyUnicode_Substring(text, from + start, from + stop);
            if (fragment == NULL) {
                goto done;
            }
            PyObject *count;
            int failed = fragment_count(dictionary, fragment, &count);
            Py_DECREF(fragment); /* count is borrowed from a dictionary, which outlives this call */
            if (failed) {
                goto done;
            }
            if (count == NULL) {
                break; /* no dictionary word goes on with this fragment */
            }
            int nonzero = PyObject_IsTrue(count);
            if (nonzero < 0) {
                goto done;
            }
            if (!nonzero) {
                continue;
            }
            PyObject *log_count = PyDict_GetItemWithError(dictionary->logs, count);
            if (log_count == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, count);
                }
                goto done;
            }
            double value = PyFloat_AsDouble(log_count);
            if (value == -1.0 && PyErr_Occurred()) {
                goto done;
            }
            value = value - dictionary->log_total + score[stop];
            if (value >= best) {
                best = value;
                best_end = stop;
            }
        }
        if (best_end) {
            score[start] = best;
            ends[start] = best_end;
        }
        else {
            score[start] = -dictionary->log_total + score[start + 1];
            ends[start] = start + 1;
        }
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t letters = -1; /* start of the pending run of single letters or digits */
    for (Py_ssize_t position = 0; position < length; position = ends[position]) {
        Py_ssize_t after = ends[position];
        if (after - position == 1 && is_alphanumeric(PyUnicode_READ(kind, data, from + position))) {
            if (letters < 0) {
                letters = position;
            }
            continue;
        }
        if (letters >= 0) {
            if (append_substring(tokens, text, from + letters, from + position) < 0) {
                goto done;
            }
            letters = -1;
        }
        if (append_substring(tokens, text, from + position, from + after) < 0) {
            goto done;
        }
    }
    if (letters >= 0 && append_substring(tokens, text, from + letters, to) < 0) {
        goto done;
    }
    status = 0;
done:
    PyMem_Free(score);
    PyMem_Free(ends);
    return status;
}

/* stem_english of text.py: -ies/-ied to -y; else -ing, -ed, -es after ch/sh/ss/x/zz, or a plural -s; then
 * a final -e. */
static PyObject *
stem_english(PyObject *word)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(word);
    int kind = PyUnicode_KIND(word);
    const void *data = PyUnicode_DATA(word);
#define AT(offset) PyUnicode_READ(kind, data, length - (offset))
#define ENDS2(a, b) (AT(2) == (a) && AT(1) == (b))
#define ENDS3(a, b, c) (AT(3) == (a) && ENDS2(b, c))
#define ENDS4(a, b, c, d) (AT(4) == (a) && ENDS3(b, c, d))
    if (length > 4 && (ENDS3('i', 'e', 's') || ENDS3('i', 'e', 'd'))) {
        PyObject *head = PyUnicode_Substring(word, 0, length - 3);
        if (head == NULL) {
            return NULL;
        }
        PyObject *stem = PyUnicode_FromFormat("%Uy", head);
        Py_DECREF(head);
        return stem;
    }
    Py_ssize_t keep = length;
    if (length > 5 && ENDS3('i', 'n', 'g')) {
        keep -= 3;
    }
    else if (length > 4 && ENDS2('e', 'd')) {
        keep -= 2;
    }
    else if (length > 4 && (ENDS4('c', 'h', 'e', 's') || ENDS4('s', 'h', 'e', 's') || ENDS4('s', 's', 'e', 's') ||
                            ENDS3('x', 'e', 's') || ENDS4('z', 'z', 'e', 's'))) {
        keep -= 2;
    }
    else if (length > 3 && AT(1) == 's' && AT(2) != 's' && AT(2) != 'u' && AT(2) != 'i') {
        keep -= 1;
    }
#undef ENDS4
#undef ENDS3
#undef ENDS2
#undef AT
    if (keep > 4 && PyUnicode_READ(kind, data, keep - 1) == 'e') {
        keep -= 1;
    }
    return keep == length ? Py_NewRef(word) : PyUnicode_Substring(word, 0, keep);
}

/* Closes the pending CJK run: its tokens glued back into one string. */
static int
close_run(PyObject *run, PyObject *runs)
{
    Py_ssize_t size = PyList_GET_SIZE(run);
    if (size == 0) {
        return 0;
    }
    PyObject *empty = PyUnicode_New(0, 0);
    if (empty == NULL) {
        return -1;
    }
    PyObject *joined = PyUnicode_Join(empty, run);
    Py_DECREF(empty);
    if (joined == NULL) {
        return -1;
    }
    int failed = PyList_Append(runs, joined);
    Py_DECREF(joined);
    if (failed) {
        return -1;
    }
    return PyList_SetSlice(run, 0, size, NULL);
}

/* (tuple(words), tuple(runs)): what Segmenter.words_and_runs returns. */
static PyObject *
tuple_pair(PyObject *words, PyObject *runs)
{
    PyObject *word_tuple = PyList_AsTuple(words);
    PyObject *run_tuple = word_tuple == NULL ? NULL : PyList_AsTuple(runs);
    PyObject *pair = run_tuple == NULL ? NULL : PyTuple_Pack(2, word_tuple, run_tuple);
    Py_XDECREF(word_tuple);
    Py_XDECREF(run_tuple);
    return pair;
}

/* (words, runs) of one piece without spaces: Segmenter._piece in text.py.
 *
 * jieba's blocks are cut with the dynamic programme, any other character stands alone; stop words are
 * dropped and end a CJK run; an ASCII token is a Latin word (stemmed) and ends a run; a token opening with
 * an ideograph joins the run.
 */
static PyObject *
analyse_piece(const Dictionary *dictionary, PyObject *stop_words, PyObject *text)
{
    PyObject *tokens = PyList_New(0), *words = PyList_New(0), *runs = PyList_New(0), *run = PyList_New(0);
    PyObject *result = NULL;
    if (tokens == NULL || words == NULL || runs == NULL || run == NULL) {
        goto done;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t position = 0; position < length;) {
        Py_ssize_t end = position;
        while (end < length && is_block_character(PyUnicode_READ(kind, data, end))) {
            end++;
        }
        if (end > position) {
            if (cut_block(dictionary, text, position, end, tokens) < 0) {
                goto done;
            }
        }
        else {
            end = position + 1;
            if (append_substring(tokens, text, position, end) < 0) {
                goto done;
            }
        }
        position = end;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(tokens); i++) {
        PyObject *token = PyList_GET_ITEM(tokens, i);
        int stop = PySet_Contains(stop_words, token);
        if (stop < 0) {
            goto done;
        }
        if (stop) {
            if (close_run(run, runs) < 0) {
                goto done;
            }
            continue;
        }
        if (PyUnicode_IS_ASCII(token)) {
            PyObject *stemmed = stem_english(token);
            if (stemmed == NULL || PyList_Append(words, stemmed) < 0) {
                Py_XDECREF(stemmed);
                goto done;
            }
            Py_DECREF(stemmed);
            if (close_run(run, runs) < 0) {
                goto done;
            }
        }
        else {
            if (PyList_Append(words, token) < 0) {
                goto done;
            }
            if (PyUnicode_READ_CHAR(token, 0) > 0x7F && PyList_Append(run, token) < 0) {
                goto done;
            }
        }
    }
    if (close_run(run, runs) < 0) {
        goto done;
    }
    result = tuple_pair(words, runs);
done:
    Py_XDECREF(tokens);
    Py_XDECREF(words);
    Py_XDECREF(runs);
    Py_XDECREF(run);
    return result;
}

/* A piece's (words, runs) from `cache` (a dict, or None), analysed and stored there when missing. */
static PyObject *
cached_piece(const Dictionary *dictionary, PyObject *stop_words, PyObject *cache, PyObject *text)
{
    if (cache != Py_None) {
        PyObject *found = PyDict_GetItemWithError(cache, text);
        if (found != NULL) {
            return Py_NewRef(found);
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    PyObject *result = analyse_piece(dictionary, stop_words, text);
    if (result != NULL && cache != Py_None && PyDict_SetItem(cache, text, result) < 0) {
        Py_CLEAR(result);
    }
    return result;
}

static int
extend(PyObject *list, PyObject *tuple)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); i++) {
        if (PyList_Append(list, PyTuple_GET_ITEM(tuple, i)) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *space = NULL;

/* analyse(text, cache, base, overlay, logs, log_total, stop_words) -> (words, runs):
 * Segmenter.analyse_normalised in C. jieba cuts each space-separated piece on its own, and a space always
 * ends a CJK run, so pieces are analysed separately; `cache` (a dict or None) maps piece -> (words, runs). */
static PyObject *
analyse(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Dictionary dictionary;
    if (nargs != 7 || !PyUnicode_Check(args[0]) || (args[1] != Py_None && !PyDict_Check(args[1])) ||
        !PyAnySet_Check(args[6])) {
        PyErr_SetString(PyExc_TypeError,
                        "analyse(text: str, cache: dict | None, base, overlay, logs, log_total, stop_words: set)");
        return NULL;
    }
    if (read_dictionary(args + 2, &dictionary) < 0) {
        return NULL;
    }
    PyObject *text = args[0], *cache = args[1], *stop_words = args[6];
    PyObject *pieces = PyUnicode_Split(text, space, -1);
    if (pieces == NULL) {
        return NULL;
    }
    PyObject *result = NULL, *words = NULL, *runs = NULL;
    if (PyList_GET_SIZE(pieces) == 1) {
        result = cached_piece(&dictionary, stop_words, cache, PyList_GET_ITEM(pieces, 0));
        goto done;
    }
    words = PyList_New(0);
    runs = PyList_New(0);
    if (words == NULL || runs == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(pieces); i++) {
        PyObject *found = cached_piece(&dictionary, stop_words, cache, PyList_GET_ITEM(pieces, i));
        if (found == NULL) {
            goto done;
        }
        int failed = extend(words, PyTuple_GET_ITEM(found, 0)) || extend(runs, PyTuple_GET_ITEM(found, 1));
        Py_DECREF(found);
        if (failed) {
            goto done;
        }
    }
    result = tuple_pair(words, runs);
done:
    Py_DECREF(pieces);
    Py_XDECREF(words);
    Py_XDECREF(runs);
    return result;
}

/* numpy's pairwise sum of doubles (loops_utils.h), so retrieval scores match np.add.reduceat bit for bit. */
static double
pairwise_sum(const double *values, Py_ssize_t count)
{
    if (count < 8) {
        double sum = 0.0;
        for (Py_ssize_t i = 0; i < count; i++) {
            sum += values[i];
        }
        return sum;
    }
    if (count <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) {
            r[j] = values[j];
        }
        Py_ssize_t i;
        for (i = 8; i < count - (count % 8); i += 8) {
            for (int j = 0; j < 8; j++) {
                r[j] += values[i + j];
            }
        }
        double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < count; i++) {
            sum += values[i];
        }
        return sum;
    }
    Py_ssize_t half = count / 2;
    half -= half % 8;
    return pairwise_sum(values, half) + pairwise_sum(values + half, count - half);
}

static int
read_buffer(PyObject *object, Py_buffer *view, Py_ssize_t itemsize, const char *name)
{
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS) < 0) {
        return -1;
    }
    if (view->itemsize != itemsize || view->len % itemsize) {
        PyErr_Format(PyExc_TypeError, "%s: expected items of %zd bytes", name, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* read_buffer for objects[0 .. count - 1], all or none: on a failure the ones already read are released. */
static int
read_buffers(PyObject *const *objects, Py_buffer *views, const Py_ssize_t *itemsizes, int count, const char *name)
{
    for (int i = 0; i < count; i++) {
        if (read_buffer(objects[i], &views[i], itemsizes[i], name) < 0) {
            while (i-- > 0) {
                PyBuffer_Release(&views[i]);
            }
            return -1;
        }
    }
    return 0;
}

static void
release_buffers(Py_buffer *views, int count)
{
    for (int i = 0; i < count; i++) {
        PyBuffer_Release(&views[i]);
    }
}

typedef struct {
    int32_t entry;
    double score;
} Scored;

/* Better first: higher score, then the lower entry number. */
static int
better(const Scored *a, const Scored *b)
{
    return a->score > b->score || (a->score == b->score && a->entry < b->entry);
}

/* retrieve(offsets, entries, impacts, terms, depth) -> (entry numbers, scores), best first.
 *
 * Every stored posting of the query's terms (offsets int64, entries int32, impacts float32, terms int64
 * in the query's order) summed per entry as Matcher's numpy path sums them (the first posting, plus
 * numpy's pairwise sum of the rest, in term order), then the `depth` best, ties to the lower entry. */
static PyObject *
retrieve(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "retrieve(offsets, entries, impacts, terms, depth)");
        return NULL;
    }
    Py_ssize_t depth = PyLong_AsSsize_t(args[4]);
    if (depth == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (depth < 1) {
        PyErr_SetString(PyExc_ValueError, "depth must be at least 1");
        return NULL;
    }
    enum { OFFSETS, ENTRIES, IMPACTS, TERMS, BUFFERS };
    static const Py_ssize_t itemsizes[BUFFERS] = {8, 4, 4, 8};
    Py_buffer views[BUFFERS];
    if (read_buffers(args, views, itemsizes, BUFFERS, "retrieve(offsets, entries, impacts, terms)") < 0) {
        return NULL;
    }
    const int64_t *offsets = views[OFFSETS].buf, *terms = views[TERMS].buf;
    const int32_t *entries = views[ENTRIES].buf;
    const float *impacts = views[IMPACTS].buf;
    Py_ssize_t term_count = views[OFFSETS].len / 8 - 1, query_terms = views[TERMS].len / 8;
    Py_ssize_t posting_count = views[ENTRIES].len / 4;
    PyObject *result = NULL;
    int32_t *slot_entry = NULL, *table = NULL;
    Py_ssize_t *slot_count = NULL, *slot_start = NULL, *posting_slot = NULL;
    double *grouped = NULL;
    Scored *best = NULL;
    Py_ssize_t total = 0;
    for (Py_ssize_t t = 0; t < query_terms; t++) {
        int64_t term = terms[t];
        if (term < 0 || term >= term_count || offsets[term] < 0 || offsets[term + 1] > posting_count ||
            offsets[term + 1] < offsets[term] || views[IMPACTS].len / 4 != posting_count) {
            PyErr_SetString(PyExc_IndexError, "term or offsets outside the postings");
            goto done;
        }
        total += offsets[term + 1] - offsets[term];
    }
    /* Each distinct entry gets a slot in order of first appearance (open addressing, table of slot + 1). */
    Py_ssize_t capacity = 16;
    while (capacity < 2 * total) {
        capacity <<= 1;
    }
    table = PyMem_Calloc(capacity, sizeof(int32_t));
    slot_entry = PyMem_Malloc((total + 1) * sizeof(int32_t));
    slot_count = PyMem_Calloc(total + 1, sizeof(Py_ssize_t));
    slot_start = PyMem_Malloc((total + 1) * sizeof(Py_ssize_t));
    posting_slot = PyMem_Malloc((total + 1) * sizeof(Py_ssize_t));
    grouped = PyMem_Malloc((total + 1) * sizeof(double));
    best = PyMem_Malloc((depth + 1) * sizeof(Scored));
    if (!table || !slot_entry || !slot_count || !slot_start || !posting_slot || !grouped || !best) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t slots = 0, position = 0;
    for (Py_ssize_t t = 0; t < query_terms; t++) {
        for (int64_t p = offsets[terms[t]]; p < offsets[terms[t] + 1]; p++, position++) {
            uint32_t entry = (uint32_t)entries[p];
            size_t h = (entry * 2654435761u) & (capacity - 1);
            while (table[h] && slot_entry[table[h] - 1] != (int32_t)entry) {
                h = (h + 1) & (capacity - 1);
            }
            if (!table[h]) {
                slot_entry[slots] = (int32_t)entry;
                table[h] = (int32_t)(++slots);
            }
            posting_slot[position] = table[h] - 1;
            slot_count[table[h] - 1]++;
        }
    }
    /* A stable counting sort: each entry's impacts together, in term order. */
    Py_ssize_t running = 0;
    for (Py_ssize_t s = 0; s < slots; s++) {
        slot_start[s] = running;
        running += slot_count[s];
        slot_count[s] = 0;
    }
    position = 0;
    for (Py_ssize_t t = 0; t < query_terms; t++) {
        for (int64_t p = offsets[terms[t]]; p < offsets[terms[t] + 1]; p++, position++) {
            Py_ssize_t s = posting_slot[position];
            grouped[slot_start[s] + slot_count[s]++] = (double)impacts[p];
        }
    }
    /* The depth best so far, kept sorted: most entries lose to the last one at once. */
    Py_ssize_t kept = 0;
    for (Py_ssize_t s = 0; s < slots; s++) {
        const double *values = grouped + slot_start[s];
        Scored candidate = {slot_entry[s], values[0] + pairwise_sum(values + 1, slot_count[s] - 1)};
        if (kept == depth && !better(&candidate, &best[kept - 1])) {
            continue;
        }
        Py_ssize_t at = kept < depth ? kept++ : kept - 1;
        while (at > 0 && better(&candidate, &best[at - 1])) {
            best[at] = best[at - 1];
            at--;
        }
        best[at] = candidate;
    }
    PyObject *numbers = PyList_New(kept), *scores = PyList_New(kept);
    if (numbers == NULL || scores == NULL) {
        Py_XDECREF(numbers);
        Py_XDECREF(scores);
        goto done;
    }
    for (Py_ssize_t i = 0; i < kept; i++) {
        PyObject *number = PyLong_FromLong(best[i].entry), *score = PyFloat_FromDouble(best[i].score);
        if (number == NULL || score == NULL) {
            Py_XDECREF(number);
            Py_XDECREF(score);
            Py_DECREF(numbers);
            Py_DECREF(scores);
            goto done;
        }
        PyList_SET_ITEM(numbers, i, number);
        PyList_SET_ITEM(scores, i, score);
    }
    result = PyTuple_Pack(2, numbers, scores);
    Py_DECREF(numbers);
    Py_DECREF(scores);
done:
    PyMem_Free(table);
    PyMem_Free(slot_entry);
    PyMem_Free(slot_count);
    PyMem_Free(slot_start);
    PyMem_Free(posting_slot);
    PyMem_Free(grouped);
    PyMem_Free(best);
    release_buffers(views, BUFFERS);
    return result;
}

/* complete(offsets, entries, impacts, terms, found, totals) -> None
 *
 * For each query term (offsets int64, entries int32 in entry order per term, impacts float32, terms int64 in
 * the query's order), adds its impact for each entry of `found` (int32) that its list holds to that entry's
 * total (float64, written in place), as Matcher._complete's numpy loop does: per entry, in term order. */
static PyObject *
complete(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "complete(offsets, entries, impacts, terms, found, totals)");
        return NULL;
    }
    enum { OFFSETS, ENTRIES, IMPACTS, TERMS, FOUND, BUFFERS };
    static const Py_ssize_t itemsizes[BUFFERS] = {8, 4, 4, 8, 4};
    Py_buffer views[BUFFERS], totals_view;
    if (read_buffers(args, views, itemsizes, BUFFERS, "complete(offsets, entries, impacts, terms, found)") < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[5], &totals_view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        release_buffers(views, BUFFERS);
        return NULL;
    }
    PyObject *result = NULL;
    const int64_t *offsets = views[OFFSETS].buf, *terms = views[TERMS].buf;
    const int32_t *entries = views[ENTRIES].buf, *found = views[FOUND].buf;
    const float *impacts = views[IMPACTS].buf;
    double *totals = totals_view.buf;
    Py_ssize_t term_count = views[OFFSETS].len / 8 - 1, query_terms = views[TERMS].len / 8;
    Py_ssize_t posting_count = views[ENTRIES].len / 4, found_count = views[FOUND].len / 4;
    if (totals_view.itemsize != 8 || totals_view.len != found_count * 8 || views[IMPACTS].len / 4 != posting_count) {
        PyErr_SetString(PyExc_TypeError, "complete: totals must be float64, one per found entry");
        goto done;
    }
    for (Py_ssize_t t = 0; t < query_terms; t++) {
        int64_t term = terms[t];
        if (term < 0 || term >= term_count || offsets[term] < 0 || offsets[term + 1] > posting_count ||
            offsets[term + 1] < offsets[term]) {
            PyErr_SetString(PyExc_IndexError, "term or offsets outside the postings");
            goto done;
        }
    }
    for (Py_ssize_t t = 0; t < query_terms; t++) {
        int64_t start = offsets[terms[t]], stop = offsets[terms[t] + 1];
        if (start == stop) {
            continue;
        }
        for (Py_ssize_t i = 0; i < found_count; i++) {
            /* The first position whose entry is not below the one sought (np.searchsorted's left side). */
            int64_t low = start, high = stop;
            while (low < high) {
                int64_t middle = low + (high - low) / 2;
                if (entries[middle] < found[i]) {
                    low = middle + 1;
                } else {
                    high = middle;
                }
            }
            if (low < stop && entries[low] == found[i]) {
                totals[i] += (double)impacts[low];
            }
        }
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&totals_view);
    release_buffers(views, BUFFERS);
    return result;
}

/* The buffers `cover` reads, by argument position, with their item sizes. */
enum {
    COVER_SORTED_TERMS = 6, COVER_SORTED_WEIGHTS, COVER_SORTED_KINDS, COVER_ENTRY_TERMS, COVER_ENTRY_SLOTS,
    COVER_TERM_OFFSETS, COVER_PHRASING_STARTS, COVER_PHRASING_TOTAL, COVER_PHRASING_DIVISORS, COVER_DIVISORS,
    COVER_ARGUMENTS
};
static const Py_ssize_t cover_itemsizes[COVER_ARGUMENTS] = {
    [COVER_SORTED_TERMS] = 4, [COVER_SORTED_WEIGHTS] = 8, [COVER_SORTED_KINDS] = 1, [COVER_ENTRY_TERMS] = 4,
    [COVER_ENTRY_SLOTS] = 2, [COVER_TERM_OFFSETS] = 8, [COVER_PHRASING_STARTS] = 8, [COVER_PHRASING_TOTAL] = 8,
    [COVER_PHRASING_DIVISORS] = 8, [COVER_DIVISORS] = 8,
};

/* cover(numbers, scores, best, ceiling, query_total, width, sorted_terms, sorted_weights, sorted_kinds,
 *       entry_terms, entry_slots, term_offsets, phrasing_starts, phrasing_total, phrasing_divisors,
 *       divisors) -> (rows, chosen phrasings)
 *
 * Matcher._candidate_features_numpy's columns 0-7 for each candidate, as a bytearray of
 * len(numbers) x width doubles (the other columns zero), and each candidate's best phrasing. Which of the
 * query's terms (sorted, ending with a sentinel) each entry's answer (slot 0) and phrasings (slots 1, 2 …)
 * contain, summed per slot and kind in stored order; the best phrasing is the one with the highest product
 * of both coverages, the first of equals. */
static PyObject *
cover(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != COVER_ARGUMENTS || !PyList_Check(args[0]) || !PyList_Check(args[1]) ||
        PyList_GET_SIZE(args[0]) != PyList_GET_SIZE(args[1])) {
        PyErr_SetString(PyExc_TypeError, "cover(numbers: list, scores: list of the same length, best, ceiling, "
                                         "query_total, width, then the query's and the index's arrays)");
        return NULL;
    }
    double best = PyFloat_AsDouble(args[2]), ceiling = PyFloat_AsDouble(args[3]);
    double query_total = PyFloat_AsDouble(args[4]);
    Py_ssize_t width = PyLong_AsSsize_t(args[5]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (width < 8) {
        PyErr_SetString(PyExc_ValueError, "width must be at least 8");
        return NULL;
    }
    enum { BUFFERS = COVER_ARGUMENTS - COVER_SORTED_TERMS };
    Py_buffer views[COVER_ARGUMENTS];
    if (read_buffers(args + COVER_SORTED_TERMS, views + COVER_SORTED_TERMS, cover_itemsizes + COVER_SORTED_TERMS,
                     BUFFERS, "cover") < 0) {
        return NULL;
    }
    PyObject *rows = NULL, *chosen = NULL, *result = NULL;
    double *cube = NULL;
    const int32_t *sorted_terms = views[COVER_SORTED_TERMS].buf, *entry_terms = views[COVER_ENTRY_TERMS].buf;
    const double *sorted_weights = views[COVER_SORTED_WEIGHTS].buf;
    const int8_t *sorted_kinds = views[COVER_SORTED_KINDS].buf;
    const int16_t *entry_slots = views[COVER_ENTRY_SLOTS].buf;
    const int64_t *term_offsets = views[COVER_TERM_OFFSETS].buf, *phrasing_starts = views[COVER_PHRASING_STARTS].buf;
    const double *phrasing_total = views[COVER_PHRASING_TOTAL].buf;
    const double *phrasing_divisors = views[COVER_PHRASING_DIVISORS].buf, *divisors = views[COVER_DIVISORS].buf;
    Py_ssize_t query_size = views[COVER_SORTED_TERMS].len / 4 - 1; /* without the sentinel */
    Py_ssize_t entry_count = views[COVER_TERM_OFFSETS].len / 8 - 1;
    Py_ssize_t phrasing_count = views[COVER_PHRASING_TOTAL].len / 8;
    if (query_size < 0 || views[COVER_SORTED_WEIGHTS].len / 8 < query_size ||
        views[COVER_SORTED_KINDS].len < query_size || views[COVER_DIVISORS].len / 8 != 3 ||
        views[COVER_PHRASING_STARTS].len / 8 != entry_count + 1 ||
        views[COVER_PHRASING_DIVISORS].len / 8 != 2 * phrasing_count ||
        views[COVER_ENTRY_SLOTS].len / 2 != views[COVER_ENTRY_TERMS].len / 4) {
        PyErr_SetString(PyExc_ValueError, "cover: arrays of inconsistent sizes");
        goto done;
    }
    Py_ssize_t candidates = PyList_GET_SIZE(args[0]);
    rows = PyByteArray_FromStringAndSize(NULL, candidates * width * (Py_ssize_t)sizeof(double));
    chosen = PyList_New(candidates);
    if (rows == NULL || chosen == NULL) {
        goto done;
    }
    double *out = (double *)PyByteArray_AS_STRING(rows);
    memset(out, 0, candidates * width * sizeof(double));
    for (Py_ssize_t c = 0; c < candidates; c++) {
        Py_ssize_t number = PyLong_AsSsize_t(PyList_GET_ITEM(args[0], c));
        double score = PyFloat_AsDouble(PyList_GET_ITEM(args[1], c));
        if (PyErr_Occurred()) {
            goto done;
        }
        if (number < 0 || number >= entry_count) {
            PyErr_SetString(PyExc_IndexError, "cover: entry number outside the index");
            goto done;
        }
        int64_t first = phrasing_starts[number], phrasings = phrasing_starts[number + 1] - first;
        int64_t start = term_offsets[number], stop = term_offsets[number + 1];
        if (phrasings < 1 || first + phrasings > phrasing_count || start < 0 || stop < start ||
            stop > views[COVER_ENTRY_TERMS].len / 4) {
            PyErr_SetString(PyExc_IndexError, "cover: entry outside the index");
            goto done;
        }
        PyMem_Free(cube);
        cube = PyMem_Calloc((size_t)(phrasings + 1) * 3, sizeof(double));
        if (cube == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (int64_t i = start; i < stop; i++) {
            int32_t term = entry_terms[i];
            Py_ssize_t low = 0, high = query_size; /* first position whose term is >= this one */
            while (low < high) {
                Py_ssize_t middle = (low + high) / 2;
                if (sorted_terms[middle] < term) {
                    low = middle + 1;
                }
                else {
                    high = middle;
                }
            }
            int16_t slot = entry_slots[i];
            if (low < query_size && sorted_terms[low] == term && slot >= 0 && slot <= phrasings) {
                int8_t kind = sorted_kinds[low];
                if (kind >= 0 && kind < 3) {
                    cube[slot * 3 + kind] += sorted_weights[low];
                }
            }
        }
        Py_ssize_t best_slot = 0;
        double best_fit = -1.0;
        for (Py_ssize_t slot = 1; slot <= phrasings; slot++) {
            const double *covered = cube + slot * 3;
            double matched = (covered[0] + covered[1]) + covered[2];
            double fit = (matched / query_total) * (matched / phrasing_total[first + slot - 1]);
            if (fit > best_fit) {
                best_fit = fit;
                best_slot = slot - 1;
            }
        }
        const double *covered = cube + (best_slot + 1) * 3;
        double *row = out + c * width;
        int64_t phrasing = first + best_slot;
        row[0] = score / best;
        row[1] = score / ceiling;
        row[2] = covered[0] / divisors[0];
        row[3] = covered[1] / divisors[1];
        row[4] = covered[2] / divisors[2];
        row[5] = covered[1] / phrasing_divisors[2 * phrasing];
        row[6] = covered[2] / phrasing_divisors[2 * phrasing + 1];
        row[7] = ((cube[0] + cube[1]) + cube[2]) / query_total;
        PyObject *value = PyLong_FromLongLong(phrasing);
        if (value == NULL) {
            goto done;
        }
        PyList_SET_ITEM(chosen, c, value);
    }
    result = PyTuple_Pack(2, rows, chosen);
done:
    PyMem_Free(cube);
    Py_XDECREF(rows);
    Py_XDECREF(chosen);
    release_buffers(views + COVER_SORTED_TERMS, BUFFERS);
    return result;
}

/* Whether `code` occurs in one of the lines of data[start:stop] that have two or more characters. */
static int
in_long_line(int kind, const void *data, Py_ssize_t start, Py_ssize_t stop, Py_UCS4 code)
{
    while (start < stop) {
        Py_ssize_t end = start;
        int seen = 0;
        while (end < stop && PyUnicode_READ(kind, data, end) != '\n') {
            seen |= PyUnicode_READ(kind, data, end) == code;
            end++;
        }
        if (seen && end - start > 1) {
            return 1;
        }
        start = end + 1;
    }
    return 0;
}

/* character_shares(compact, joined, offsets, numbers) -> [(best, covered), …]: character_shares_python in
 * matcher.py. For each entry number, its texts joined[offsets[n]:offsets[n + 1]] (one per line) of two or
 * more characters: the best share of one text's characters that occur in `compact`, and how many of
 * `compact`'s characters occur in one of them. */
static PyObject *
character_shares(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyUnicode_Check(args[0]) || !PyUnicode_Check(args[1]) || !PyList_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "character_shares(compact: str, joined: str, offsets, numbers: list)");
        return NULL;
    }
    PyObject *compact = args[0], *joined = args[1], *numbers = args[3];
    Py_buffer offsets_view;
    if (read_buffer(args[2], &offsets_view, 8, "offsets") < 0) {
        return NULL;
    }
    const int64_t *offsets = offsets_view.buf;
    Py_ssize_t entries = offsets_view.len / 8 - 1, joined_length = PyUnicode_GET_LENGTH(joined);
    Py_ssize_t size = PyUnicode_GET_LENGTH(compact);
    int query_kind = PyUnicode_KIND(compact), kind = PyUnicode_KIND(joined);
    const void *query_data = PyUnicode_DATA(compact), *data = PyUnicode_DATA(joined);
    Py_ssize_t count = PyList_GET_SIZE(numbers);
    PyObject *result = PyList_New(count);
    if (result == NULL) {
        goto done;
    }
    for (Py_ssize_t c = 0; c < count; c++) {
        Py_ssize_t number = PyLong_AsSsize_t(PyList_GET_ITEM(numbers, c));
        if (number == -1 && PyErr_Occurred()) {
            Py_CLEAR(result);
            goto done;
        }
        if (number < 0 || number >= entries || offsets[number] < 0 || offsets[number + 1] < offsets[number] ||
            offsets[number + 1] > joined_length) {
            PyErr_SetString(PyExc_IndexError, "character_shares: entry outside the offsets");
            Py_CLEAR(result);
            goto done;
        }
        Py_ssize_t first = offsets[number], last = offsets[number + 1];
        double best = 0.0;
        for (Py_ssize_t start = first; start < last;) {
            Py_ssize_t end = start, found = 0;
            for (; end < last && PyUnicode_READ(kind, data, end) != '\n'; end++) {
                Py_UCS4 code = PyUnicode_READ(kind, data, end);
                for (Py_ssize_t q = 0; q < size; q++) {
                    if (PyUnicode_READ(query_kind, query_data, q) == code) {
                        found++;
                        break;
                    }
                }
            }
            if (end - start > 1 && (double)found / (double)(end - start) > best) {
                best = (double)found / (double)(end - start);
            }
            start = end + 1; /* past the line break */
        }
        Py_ssize_t covered = 0;
        for (Py_ssize_t q = 0; q < size; q++) {
            covered += in_long_line(kind, data, first, last, PyUnicode_READ(query_kind, query_data, q));
        }
        PyObject *pair = Py_BuildValue("(dn)", best, covered);
        if (pair == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, c, pair);
    }
done:
    PyBuffer_Release(&offsets_view);
    return result;
}

static int
compare_keys(const void *left, const void *right)
{
    int64_t a = *(const int64_t *)left, b = *(const int64_t *)right;
    return (a > b) - (a < b);
}

#define NGRAM_SHIFT 21
#define WORD_KEY ((int64_t)1 << 42)
#define GROUP_SHIFT 43

/* group_keys(run_texts, run_groups, word_groups, word_terms, first_group, group_count) -> (distinct, counts)
 *
 * One chunk of an index build (build.py's flush): every group's rows as int64 keys, (group - first_group)
 * in the high bits, then a word id above every n-gram key, or a CJK unigram (its code point) or bigram (two
 * code points) of the group's runs text (runs separated and ended by NUL, so no bigram spans two runs). As
 * np.unique(keys, return_counts=True) gives them: distinct keys ascending, each with its count; both as
 * bytes of int64. Each group is sorted on its own, a few hundred keys at most, where numpy sorts them all. */
static PyObject *
group_keys(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "group_keys(run_texts: list, run_groups, word_groups, word_terms, first_group, group_count)");
        return NULL;
    }
    Py_ssize_t first = PyLong_AsSsize_t(args[4]), group_count = PyLong_AsSsize_t(args[5]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    enum { RUN_GROUPS, WORD_GROUPS, WORD_TERMS, BUFFERS };
    static const Py_ssize_t itemsizes[BUFFERS] = {4, 4, 4};
    Py_buffer views[BUFFERS];
    if (read_buffers(args + 1, views, itemsizes, BUFFERS, "group_keys(…, run_groups, word_groups, word_terms)") < 0) {
        return NULL;
    }
    PyObject *texts = args[0], *result = NULL;
    const int32_t *run_groups = views[RUN_GROUPS].buf, *word_groups = views[WORD_GROUPS].buf;
    const int32_t *word_terms = views[WORD_TERMS].buf;
    Py_ssize_t text_count = PyList_GET_SIZE(texts), word_count = views[WORD_GROUPS].len / 4;
    Py_ssize_t *starts = NULL, *filled = NULL;
    int64_t *keys = NULL, *distinct = NULL, *counts = NULL;
    if (views[RUN_GROUPS].len / 4 != text_count || views[WORD_TERMS].len / 4 != word_count || group_count < 0) {
        PyErr_SetString(PyExc_ValueError, "group_keys: arrays of inconsistent sizes");
        goto done;
    }
    starts = PyMem_Calloc(group_count + 1, sizeof(Py_ssize_t));
    filled = PyMem_Calloc(group_count + 1, sizeof(Py_ssize_t));
    if (starts == NULL || filled == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* Rows per group, then where each group's rows start. */
    for (Py_ssize_t i = 0; i < word_count; i++) {
        Py_ssize_t group = word_groups[i] - first;
        if (group < 0 || group >= group_count) {
            PyErr_SetString(PyExc_IndexError, "group_keys: word group outside the chunk");
            goto done;
        }
        starts[group + 1]++;
    }
    for (Py_ssize_t t = 0; t < text_count; t++) {
        PyObject *text = PyList_GET_ITEM(texts, t);
        Py_ssize_t group = run_groups[t] - first;
        if (!PyUnicode_Check(text) || group < 0 || group >= group_count) {
            PyErr_SetString(PyExc_ValueError, "group_keys: a runs text that is not a str, or outside the chunk");
            goto done;
        }
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        Py_UCS4 previous = 0;
        for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(text); i++) {
            Py_UCS4 code = PyUnicode_READ(kind, data, i);
            starts[group + 1] += (code != 0) + (code != 0 && previous != 0);
            previous = code;
        }
    }
    for (Py_ssize_t g = 0; g < group_count; g++) {
        starts[g + 1] += starts[g];
    }
    Py_ssize_t total = starts[group_count];
    keys = PyMem_Malloc((total + 1) * sizeof(int64_t));
    distinct = PyMem_Malloc((total + 1) * sizeof(int64_t));
    counts = PyMem_Malloc((total + 1) * sizeof(int64_t));
    if (keys == NULL || distinct == NULL || counts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < word_count; i++) {
        Py_ssize_t group = word_groups[i] - first;
        keys[starts[group] + filled[group]++] = (int64_t)word_terms[i] + WORD_KEY;
    }
    for (Py_ssize_t t = 0; t < text_count; t++) {
        PyObject *text = PyList_GET_ITEM(texts, t);
        Py_ssize_t group = run_groups[t] - first;
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        Py_UCS4 previous = 0;
        for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(text); i++) {
            Py_UCS4 code = PyUnicode_READ(kind, data, i);
            if (code != 0) {
                keys[starts[group] + filled[group]++] = code;
                if (previous != 0) {
                    keys[starts[group] + filled[group]++] = ((int64_t)previous << NGRAM_SHIFT) | code;
                }
            }
            previous = code;
        }
    }
    Py_ssize_t written = 0;
    for (Py_ssize_t g = 0; g < group_count; g++) {
        int64_t *begin = keys + starts[g];
        Py_ssize_t size = starts[g + 1] - starts[g];
        qsort(begin, size, sizeof(int64_t), compare_keys);
        int64_t high = (int64_t)g << GROUP_SHIFT;
        for (Py_ssize_t i = 0; i < size; i++) {
            if (i > 0 && begin[i] == begin[i - 1]) {
                counts[written - 1]++;
                continue;
            }
            distinct[written] = high | begin[i];
            counts[written++] = 1;
        }
    }
    PyObject *distinct_bytes = PyBytes_FromStringAndSize((const char *)distinct, written * sizeof(int64_t));
    PyObject *count_bytes = PyBytes_FromStringAndSize((const char *)counts, written * sizeof(int64_t));
    if (distinct_bytes != NULL && count_bytes != NULL) {
        result = PyTuple_Pack(2, distinct_bytes, count_bytes);
    }
    Py_XDECREF(distinct_bytes);
    Py_XDECREF(count_bytes);
done:
    PyMem_Free(starts);
    PyMem_Free(filled);
    PyMem_Free(keys);
    PyMem_Free(distinct);
    PyMem_Free(counts);
    release_buffers(views, BUFFERS);
    return result;
}

static PyMethodDef methods[] = {
    {"set_fold_table", set_fold_table, METH_O, "Set the BMP folding table: {code point: code point}."},
    {"fold", fold, METH_O, "The text with every character of the folding table replaced."},
    {"separate", separate, METH_O, "Runs of characters normalise does not keep as one space, stripped."},
    {"retrieve", (PyCFunction)(void (*)(void))retrieve, METH_FASTCALL,
     "Matcher's retrieval: the best entries for the query's terms, with their scores."},
    {"complete", (PyCFunction)(void (*)(void))complete, METH_FASTCALL,
     "Matcher's retrieval: the rest of the query terms' postings added to the candidates' scores, in place."},
    {"cover", (PyCFunction)(void (*)(void))cover, METH_FASTCALL,
     "Matcher's coverage features (columns 0-7) and each candidate's best phrasing."},
    {"character_shares", (PyCFunction)(void (*)(void))character_shares, METH_FASTCALL,
     "Per entry: the best share of a listed text's characters in the query, and the query characters listed."},
    {"group_keys", (PyCFunction)(void (*)(void))group_keys, METH_FASTCALL,
     "An index build chunk's distinct (group, key) rows with their counts, as np.unique gives them."},
    {"analyse", (PyCFunction)(void (*)(void))analyse, METH_FASTCALL,
     "Segmenter.analyse_normalised: (words, runs) of normalised text."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "knowledge._speedups", "Compiled loops of knowledge.text and the matcher.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    space = PyUnicode_InternFromString(" ");
    if (space == NULL) {
        return NULL;
    }
    return PyModule_Create(&module);
}
