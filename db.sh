# Where the corpora live.  The built-in corpus is generated into BUILTIN;
# the others are downloaded by you, under their own licences.
BUILTIN=${BUILTIN:-downloads/builtin}
RAVDESS=${RAVDESS:-}
CREMAD=${CREMAD:-}
EMODB=${EMODB:-}
IEMOCAP=${IEMOCAP:-}
