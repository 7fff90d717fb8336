console.log("tresen loader placeholder");
