/*
 * w2v/w2v.h - the whole public API of libw2v.
 *
 * Anything not declared in these headers is not API. Link with
 * `pkg-config --cflags --libs w2v`.
 */
#ifndef W2V_W2V_H
#define W2V_W2V_H

#include "w2v/attention.h"
#include "w2v/checkpoint.h"
#include "w2v/corpus.h"
#include "w2v/error.h"
#include "w2v/eval.h"
#include "w2v/export.h"
#include "w2v/knn.h"
#include "w2v/model.h"
#include "w2v/project.h"
#include "w2v/svg.h"
#include "w2v/tokenizer.h"
#include "w2v/train.h"
#include "w2v/vocab.h"

#endif /* W2V_W2V_H */
