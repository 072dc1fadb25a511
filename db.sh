# Where the corpora live.  The built-in corpus is generated into BUILTIN;
# the others are downloaded by you, under their own licences.
BUILTIN=${BUILTIN:-downloads/builtin}
RAVDESS=${RAVDESS:-}   # dir with Actor_01 ... Actor_24 (egs2/ravdess/ser1)
CREMAD=${CREMAD:-}     # dir with AudioWAV/ (egs2/cremad/ser1)
EMODB=${EMODB:-}       # dir with wav/ (egs2/emodb/ser1)
IEMOCAP=${IEMOCAP:-}   # IEMOCAP_full_release/ (egs2/iemocap/ser1)
